"""Which event asks for which mail, and how the choreography records it: pending to send,
suppressed for a user who opted out, waiting for a registration not yet arrived, nothing
when the monolith sends it, once however often the event comes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from notifications_service.domain.errors import RecipientNotYetKnown
from notifications_service.domain.mails import message_id_for, notification_id_for
from notifications_service.domain.preferences import Preferences
from notifications_service.service_layer.choreography import MailChoreography, mail_request_for
from strangler_contracts import (
    IntegrationEvent,
    InvoiceIssued,
    NotificationSent,
    PasswordChanged,
    PaymentFailed,
    SubscriptionCancelled,
    SubscriptionStarted,
    UserRegistered,
    encode,
)

from tests.unit.notifications.conftest import DOMAIN
from tests.unit.notifications.fakes import FakeStore, Switch

NOW = datetime(2026, 12, 1, tzinfo=UTC)
USER = "user-1"


def registered(user_id: str = USER) -> UserRegistered:
    return UserRegistered(
        user_id=user_id, email=f"{user_id}@example.com", display_name="Ada", registered_at=NOW
    )


def invoice_of(subscription: str) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id="inv-1",
        subscription_id=subscription,
        user_id=USER,
        amount_cents=900,
        currency="eur",
        period_start=NOW,
        period_end=NOW + timedelta(days=30),
        issued_at=NOW,
    )


async def apply(choreography: MailChoreography, store: FakeStore, event: IntegrationEvent) -> str:
    envelope = encode(event, source="/legacy-monolith")
    await choreography.apply(store, event, envelope)
    return envelope.id


def test_subscription_changes_ask_for_no_mail_as_the_monolith_sends_none() -> None:
    started = SubscriptionStarted(
        subscription_id="s", user_id=USER, plan_id="pro", period_start=NOW,
        period_end=NOW, started_at=NOW,
    )  # fmt: skip
    cancelled = SubscriptionCancelled(
        subscription_id="s", user_id=USER, cancelled_at=NOW, voided_invoice_ids=[]
    )

    assert mail_request_for(started) is None
    assert mail_request_for(cancelled) is None


def test_a_declined_card_s_mail_says_why() -> None:
    failed = PaymentFailed(
        payment_id="p", invoice_id="inv-1", subscription_id="s", user_id=USER,
        amount_cents=2900, currency="eur", failure_code="card_declined",
        failure_message="Insufficient funds", failed_at=NOW,
    )  # fmt: skip

    request = mail_request_for(failed)

    assert request is not None
    assert request.template == "payment_failed"
    assert request.values == {
        "invoice_id": "inv-1",
        "amount": "29.00 EUR",
        "reason": "Insufficient funds",
    }


async def test_a_registration_records_the_welcome_mail_pending_with_a_derived_message_id(
    choreography: MailChoreography, store: FakeStore
) -> None:
    event_id = await apply(choreography, store, registered())

    [entry] = store.ledger.values()
    notification = store.notifications[entry.notification_id]
    assert (entry.state, entry.attempts, entry.template) == ("pending", 0, "welcome")
    assert entry.message_id == message_id_for(event_id, "welcome", DOMAIN)
    assert notification.id == notification_id_for(event_id, "welcome")
    assert (notification.status, notification.subject) == (
        "pending",
        "Welcome to Strangler Fig, Ada",
    )
    assert store.published == []


async def test_an_invoice_s_mail_names_the_plan_its_subscription_started_with(
    choreography: MailChoreography, store: FakeStore
) -> None:
    await apply(choreography, store, registered())
    started = SubscriptionStarted(
        subscription_id="sub-1", user_id=USER, plan_id="business", period_start=NOW,
        period_end=NOW, started_at=NOW,
    )  # fmt: skip
    await apply(choreography, store, started)

    await apply(choreography, store, invoice_of("sub-1"))

    subjects = sorted(n.subject for n in store.notifications.values())
    assert subjects == ["Invoice for Business: 9.00 EUR", "Welcome to Strangler Fig, Ada"]


async def test_a_user_who_opted_out_gets_the_mail_recorded_as_suppressed_and_announced(
    choreography: MailChoreography, store: FakeStore
) -> None:
    await apply(choreography, store, registered())
    store.choices[USER] = Preferences(
        USER, account_emails=False, billing_emails=True, updated_at=NOW
    )

    await apply(choreography, store, PasswordChanged(user_id=USER, changed_at=NOW, origin="auth"))

    suppressed = [e for e in store.ledger.values() if e.template == "password_changed"]
    assert [e.state for e in suppressed] == ["suppressed"]
    [announced] = store.published
    assert isinstance(announced, NotificationSent)
    assert (announced.kind, announced.status) == ("password_changed", "suppressed")


async def test_a_billing_event_for_a_user_not_yet_registered_waits(
    choreography: MailChoreography, store: FakeStore
) -> None:
    with pytest.raises(RecipientNotYetKnown):
        await apply(choreography, store, invoice_of(str(uuid.uuid4())))

    assert store.ledger == {}


async def test_with_the_monolith_sending_nothing_is_recorded_but_who_the_user_is(
    choreography: MailChoreography, store: FakeStore, switch: Switch
) -> None:
    switch.sending = False

    await apply(choreography, store, registered())

    assert store.ledger == {}
    assert USER in store.recipients


async def test_the_same_event_applied_twice_records_its_mail_once(
    choreography: MailChoreography, store: FakeStore
) -> None:
    event = registered()
    envelope = encode(event, source="/legacy-monolith")

    await choreography.apply(store, event, envelope)
    await choreography.apply(store, event, envelope)

    assert len(store.ledger) == 1
    assert len(store.notifications) == 1
