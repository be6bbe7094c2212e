"""What a notifications event moves between the monolith and the service, as record changes."""

from __future__ import annotations

from datetime import UTC, datetime

from strangler_contracts import NotificationPreferencesChanged, NotificationSent
from strangler_contracts.notification_records import NOTIFICATION_RECORDS

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _sent(**record: object) -> NotificationSent:
    return NotificationSent.model_validate(
        {
            "notification_id": "n1",
            "user_id": "u1",
            "kind": "welcome",
            "recipient": "ada@example.com",
            "subject": "Welcome to Strangler Fig, Ada",
            "status": "sent",
            "occurred_at": NOW,
            **record,
        }
    )


def test_a_handled_mail_moves_whole_with_its_version_and_origin() -> None:
    event = _sent(
        origin="notifications",
        notification_version=2,
        category="account",
        body="Hello Ada",
        created_at=NOW,
        sent_at=NOW,
    )

    [change] = NOTIFICATION_RECORDS.translate(event, "notifications")

    assert (change.entity, change.id, change.version, change.origin, change.complete) == (
        "notifications",
        "n1",
        2,
        "notifications",
        True,
    )
    assert change.fields["body"] == "Hello Ada"
    assert set(change.fields) == set(NOTIFICATION_RECORDS.fields["notifications"])


def test_a_mail_recorded_before_two_way_sync_moves_nothing() -> None:
    assert NOTIFICATION_RECORDS.translate(_sent(), "legacy-monolith") == []


def test_changed_preferences_replace_the_users_record() -> None:
    event = NotificationPreferencesChanged(
        user_id="u1",
        account_emails=True,
        billing_emails=False,
        updated_at=NOW,
        origin="legacy-monolith",
        preferences_version=3,
    )

    [change] = NOTIFICATION_RECORDS.translate(event, "legacy-monolith")

    assert (change.entity, change.id, change.version) == ("preferences", "u1", 3)
    assert change.fields == {"account_emails": True, "billing_emails": False, "updated_at": NOW}
