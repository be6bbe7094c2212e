"""Notifications' events (``strangler.notifications``), as the monolith's anti-corruption
layer reads them (``legacy_monolith.notifications_sync.acl``: a ``SyncConsumer`` with
``NOTIFICATION_RECORDS``): a user's choice of e-mails made at notifications becomes the
``preferences`` record (the monolith's ``notification_preferences`` row), with
notifications' version and origin — never taken for the monolith's own.

Notifications verifies by a ``PUT /api/notifications/preferences`` at a real notifications
process and handing over the outbox row it committed
(tests/contracts/providers/test_notifications_events.py).
"""

from __future__ import annotations

from pact import Pact, match
from strangler_contracts import CloudEvent
from strangler_contracts.notification_records import notification_record_changes
from strangler_contracts.records import RecordChange
from strangler_contracts.registry import decode
from strangler_migration.conflicts import Side

from tests.contracts.pacts import pact_dir

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
WHEN = match.regex("2026-01-01T00:00:00Z", regex=RFC3339)
CHOSEN = "a user chooses their e-mails at notifications"

PREFERENCES_CHANGED = {
    "specversion": "1.0",
    "id": match.uuid("0f8fad5b-d9cb-469f-a165-70867728950e"),
    "source": "/notifications",
    "type": "dev.strangler-fig.notifications.preferences-changed.v1",
    "time": WHEN,
    "subject": match.str("42"),
    "datacontenttype": "application/json",
    "data": {
        "user_id": match.str("42"),
        "account_emails": match.bool(True),
        "billing_emails": match.bool(False),
        "updated_at": WHEN,
        "origin": "notifications",
        "preferences_version": match.int(1),
    },
}


def test_the_monoliths_acl_reads_a_choice_of_emails_into_its_record() -> None:
    pact = Pact("legacy-monolith", "notifications-events").with_specification("V4")
    (
        pact.upon_receiving("a NotificationPreferencesChanged event", "Async")
        .given(CHOSEN)
        .with_body(PREFERENCES_CHANGED, "application/json")
    )
    side = Side("legacy-monolith")
    changes: list[RecordChange] = []

    def the_acl_reads(body: str | bytes | None, metadata: dict[str, object]) -> None:
        envelope = CloudEvent.model_validate_json(body or b"")
        event = decode(envelope)
        declared = getattr(event, "origin", None)
        assert not side.made(envelope, declared), "the monolith would skip it as its own"
        changes.extend(notification_record_changes(event, side.origin_of(envelope, declared)))

    pact.verify(the_acl_reads, "Async")
    pact.write_file(pact_dir(), overwrite=True)
    [change] = changes
    assert (change.entity, change.origin, change.complete) == (
        "preferences",
        "notifications",
        True,
    )
    assert (change.fields["account_emails"], change.fields["billing_emails"]) == (True, False)
