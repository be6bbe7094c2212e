"""Notifications ← the events that send a mail, as its consumer reads them: a CloudEvent 1.0
envelope (``CloudEvent`` forbids attributes it does not know), decoded by the contracts'
registry, then ``mail_request_for`` picks the template and its values — the fields below are
the ones the mail and the recipient book use.

- ``UserRegistered`` (the welcome mail; the recipient's address and name), from the monolith
  and from auth: verified by the producers' registration, as billing's pact is;
- ``PasswordChanged`` (the password-changed mail), from the monolith and from auth: a
  password changed through ``POST /api/users/me/password``;
- ``InvoiceIssued`` (the invoice mail: amount, period), from the monolith: a subscription
  through ``POST /api/billing/subscriptions``;
- ``UserProfileChanged`` (no mail: the recipient book's new name for the user's next
  mails), from the monolith and from auth: a name changed through ``PATCH /api/users/me``;
- the monolith's other billing events while it serves billing (``SubscriptionStarted``: the
  plan its invoices' mails name; ``PaymentSucceeded``, ``PaymentFailed``, ``RefundIssued``:
  their mails), as billing's own (tests/contracts/consumers/monolith_billing_events.py);
- the monolith's ``NotificationSent`` (a mail it sent itself: the welcome, to a real SMTP
  sink) and ``NotificationPreferencesChanged`` (``PUT /api/notifications/preferences``),
  which notifications' sync (a ``SyncConsumer`` with ``NOTIFICATION_RECORDS``) copies, whole
  and with the monolith's version, into its mail history and preferences.

The reading is ``MailChoreography.apply``, the consumer's own, on a recipient book that
keeps what it is told, the mail it asks for kept instead of recorded.

Each producer verifies by its real path (tests/contracts/providers/test_*_events.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pact import Pact, match
from strangler_contracts import CloudEvent
from strangler_contracts.notification_records import (
    NOTIFICATION_RECORDS,
    notification_record_changes,
)
from strangler_contracts.registry import decode
from strangler_migration.conflicts import Side

from tests.contracts.consumers.closure_answers import RFC3339, cloud_event
from tests.contracts.consumers.monolith_billing_events import FOR_NOTIFICATIONS
from tests.contracts.consumers.notifications_reading import KeptMails, RecipientBook
from tests.contracts.consumers.test_monolith_consumes_notifications_events import (
    NOTIFICATION_SENT,
    PREFERENCES_CHANGED,
)
from tests.contracts.pacts import pact_dir

WHEN = "2026-01-01T00:00:00Z"


USER_REGISTERED = (
    "a UserRegistered event",
    "dev.strangler-fig.accounts.user-registered.v1",
    {
        "user_id": match.str("42"),
        "email": match.str("ada@example.com"),
        "display_name": match.str("Ada"),
        "registered_at": match.regex(WHEN, regex=RFC3339),
    },
    "welcome",
)
PASSWORD_CHANGED = (
    "a PasswordChanged event",
    "dev.strangler-fig.accounts.password-changed.v1",
    {
        "user_id": match.str("42"),
        "changed_at": match.regex(WHEN, regex=RFC3339),
        "origin": match.str("legacy-monolith"),
    },
    "password_changed",
)
INVOICE_ISSUED = (
    "an InvoiceIssued event",
    "dev.strangler-fig.billing.invoice-issued.v1",
    {
        "invoice_id": match.str("inv-1"),
        "subscription_id": match.str("sub-1"),
        "user_id": match.str("42"),
        "amount_cents": match.int(2900),
        "currency": match.str("EUR"),
        "period_start": match.regex(WHEN, regex=RFC3339),
        "period_end": match.regex("2026-02-01T00:00:00Z", regex=RFC3339),
        "issued_at": match.regex(WHEN, regex=RFC3339),
    },
    "invoice_issued",
)

USER_PROFILE_CHANGED = (
    "a UserProfileChanged event",
    "dev.strangler-fig.accounts.user-profile-changed.v1",
    {
        "user_id": match.str("42"),
        "display_name": match.str("Ada L."),
        "changed_at": match.regex(WHEN, regex=RFC3339),
        "origin": match.str("legacy-monolith"),
    },
    "renamed",  # no mail: the recipient's new name
)


def _made_at_the_monolith(body: dict[str, Any]) -> dict[str, Any]:
    return {**body["data"], "origin": "legacy-monolith"}


# The monolith's mail history and choices while both sides serve notifications: notifications'
# sync (``bootstrap.legacy_changes``) copies each into its records.
FOR_NOTIFICATIONS_SYNC = [
    (
        "a mail to a user is sent at the monolith",
        (
            "a NotificationSent event",
            NOTIFICATION_SENT["type"],
            _made_at_the_monolith(NOTIFICATION_SENT),
            "copied notifications",
        ),
    ),
    (
        "a user chooses their e-mails at the monolith",
        (
            "a NotificationPreferencesChanged event",
            PREFERENCES_CHANGED["type"],
            _made_at_the_monolith(PREFERENCES_CHANGED),
            "copied preferences",
        ),
    ),
]

# producer, its source, and each event: (state, (description, type, data, mail template)).
PRODUCERS = [
    (
        "legacy-monolith-events",
        "/legacy-monolith",
        [
            ("a user registers at the monolith", USER_REGISTERED),
            ("a user changes their password at the monolith", PASSWORD_CHANGED),
            ("a customer subscribes to a plan at the monolith", INVOICE_ISSUED),
            ("a user changes their name at the monolith", USER_PROFILE_CHANGED),
            *FOR_NOTIFICATIONS,
            *FOR_NOTIFICATIONS_SYNC,
        ],
    ),
    (
        "auth-events",
        "/auth",
        [
            ("a user registers at auth", USER_REGISTERED),
            ("a user changes their password at auth", PASSWORD_CHANGED),
            ("a user changes their name at auth", USER_PROFILE_CHANGED),
        ],
    ),
]


@pytest.mark.parametrize(("producer", "source", "events"), PRODUCERS)
def test_notifications_reads_each_event_into_its_mail(
    producer: str, source: str, events: list[tuple[str, tuple[str, str, dict[str, Any], str]]]
) -> None:
    pact = Pact("notifications", producer).with_specification("V4")
    for state, (description, event_type, data, _) in events:
        (
            pact.upon_receiving(description, "Async")
            .given(state)
            .with_body(cloud_event(source, event_type, data), "application/json")
        )
    mails: list[str] = []
    book = RecipientBook(mails)
    notifications = Side("notifications")
    choreography = KeptMails(mails)

    def notifications_reads(body: str | bytes | None, metadata: dict[str, object]) -> None:
        # What the notifications consumer does with a record's value: decode, then apply.
        envelope = CloudEvent.model_validate_json(body or b"")
        event = decode(envelope)
        if isinstance(event, NOTIFICATION_RECORDS.events):  # the sync, not the mail consumer
            declared = getattr(event, "origin", None)
            assert not notifications.made(envelope, declared), "taken for notifications' own"
            origin = notifications.origin_of(envelope, declared)
            for change in notification_record_changes(event, origin):
                assert (change.origin, change.complete) == ("legacy-monolith", True)
                mails.append(f"copied {change.entity}")
            return
        asyncio.run(choreography.apply(book, event, envelope))  # type: ignore[arg-type]

    pact.verify(notifications_reads, "Async")
    pact.write_file(pact_dir(), overwrite=True)
    assert sorted(mails) == sorted(template for _, (*_, template) in events)
