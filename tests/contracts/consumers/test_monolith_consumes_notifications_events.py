"""Notifications' events (``strangler.notifications``), as the monolith's anti-corruption
layer reads them (``legacy_monolith.notifications_sync.acl``: a ``SyncConsumer`` with
``NOTIFICATION_RECORDS``): a user's choice of e-mails made at notifications becomes the
``preferences`` record (the monolith's ``notification_preferences`` row), with
notifications' version and origin — never taken for the monolith's own; a mail notifications
sent (``NotificationSent``, with its version, category and body) becomes the
``notifications`` record, the monolith's copy of the mail history. As the accounts side of
an account closure (``strangler_closures``) the monolith folds notifications' answer,
``FarewellSentAndDataErased``, into the closure it names
(tests/contracts/consumers/closure_answers.py).

Notifications verifies by a ``PUT /api/notifications/preferences`` at a real notifications
process, by a ``UserRegistered`` and billing's ``BillingClosedForAccount`` given to it over
the broker (the welcome and the farewell handed to a real SMTP sink), and handing over the
outbox rows it committed (tests/contracts/providers/test_notifications_events.py).
"""

from __future__ import annotations

from pact import Pact, match
from strangler_contracts.notification_records import notification_record_changes

from tests.contracts.consumers.closure_answers import (
    NOTIFICATIONS_ANSWERS,
    MonolithAcl,
    cloud_event,
    when,
)
from tests.contracts.pacts import pact_dir

WHEN = when()
CHOSEN = "a user chooses their e-mails at notifications"
MAILED = "a mail to a user is sent at notifications"

PREFERENCES_CHANGED = cloud_event(
    "/notifications",
    "dev.strangler-fig.notifications.preferences-changed.v1",
    {
        "user_id": match.str("42"),
        "account_emails": match.bool(True),
        "billing_emails": match.bool(False),
        "updated_at": WHEN,
        "origin": "notifications",
        "preferences_version": match.int(1),
    },
)
NOTIFICATION_SENT = cloud_event(
    "/notifications",
    "dev.strangler-fig.notifications.notification-sent.v1",
    {
        "notification_id": match.str("n-1"),
        "user_id": match.str("42"),
        "kind": match.str("welcome"),
        "category": match.str("account"),
        "recipient": match.str("ada@example.com"),
        "subject": match.str("Welcome to Strangler Fig"),
        "body": match.str("Hello Ada"),
        "status": match.regex("sent", regex=r"^(sent|failed|suppressed)$"),
        "occurred_at": WHEN,
        "created_at": WHEN,
        "sent_at": WHEN,
        "origin": "notifications",
        "notification_version": match.int(2),
    },
)


def test_the_monoliths_acl_reads_a_choice_of_emails_into_its_record() -> None:
    pact = Pact("legacy-monolith", "notifications-events").with_specification("V4")
    for description, state, body in [
        ("a NotificationPreferencesChanged event", CHOSEN, PREFERENCES_CHANGED),
        ("a NotificationSent event", MAILED, NOTIFICATION_SENT),
        *NOTIFICATIONS_ANSWERS,
    ]:
        pact.upon_receiving(description, "Async").given(state).with_body(body, "application/json")
    the_acl = MonolithAcl(notification_record_changes)
    pact.verify(the_acl, "Async")
    changes, closures = the_acl.changes, the_acl.closures
    pact.write_file(pact_dir(), overwrite=True)
    by_entity = {change.entity: change for change in changes}
    assert sorted(by_entity) == ["notifications", "preferences"]
    assert len(changes) == 2
    preferences, mail = by_entity["preferences"], by_entity["notifications"]
    assert (preferences.origin, preferences.complete) == ("notifications", True)
    assert (preferences.fields["account_emails"], preferences.fields["billing_emails"]) == (
        True,
        False,
    )
    assert (mail.origin, mail.complete, mail.version) == ("notifications", True, 2)
    assert (mail.fields["kind"], mail.fields["body"]) == ("welcome", "Hello Ada")
    assert closures.outcomes() == [("requested", None, "done", None, None, None)]
