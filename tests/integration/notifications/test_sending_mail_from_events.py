"""Nobody calls notifications: the monolith's and billing's events, through the real broker,
become the mails the monolith sends today, each once, respecting the user's preferences."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from notifications_service.adapters.tables import inbox
from notifications_service.entrypoints.app import create_app
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts import (
    IntegrationEvent,
    InvoiceIssued,
    PasswordChanged,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionCancelled,
    SubscriptionStarted,
    UserProfileChanged,
    encode,
)
from strangler_contracts.topics import ACCOUNTS

from tests.integration.notifications.conftest import (
    BASE_URL,
    WAIT_SECONDS,
    OnlyThisTest,
    RunningSink,
    SettingsFactory,
    User,
    new_user,
    notifications_of,
    publish,
)
from tests.support.asgi import started
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def notifications(settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with started(create_app(settings(), switch=OnlyThisTest()), BASE_URL) as client:
        yield client


def billing_story(user: User, invoice: str) -> list[IntegrationEvent]:
    """Subscribe to Pro, a declined card, a payment, a partial refund, a cancellation."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    subscription = str(uuid.uuid4())
    billed = {"subscription_id": subscription, "user_id": user.id}
    money = {"amount_cents": 2900, "currency": "eur"}
    period = {"period_start": now, "period_end": now + timedelta(days=30)}
    return [
        SubscriptionStarted(**billed, plan_id="pro", started_at=now, **period),
        InvoiceIssued(invoice_id=invoice, **billed, **money, issued_at=now, **period),
        PaymentFailed(
            payment_id=str(uuid.uuid4()),
            invoice_id=invoice,
            **billed,
            **money,
            failure_code="card_declined",
            failure_message="Your card was declined",
            failed_at=now,
        ),
        PaymentSucceeded(
            payment_id=str(uuid.uuid4()),
            invoice_id=invoice,
            **billed,
            **money,
            provider_charge_id="ch_1",
            paid_at=now,
        ),
        RefundIssued(
            refund_id=str(uuid.uuid4()),
            invoice_id=invoice,
            payment_id=str(uuid.uuid4()),
            **billed,
            amount_cents=900,
            currency="eur",
            invoice_refunded_cents=900,
            refunded_at=now,
        ),
        SubscriptionCancelled(**billed, cancelled_at=now, voided_invoice_ids=[]),
    ]


async def test_every_mail_the_monolith_sends_arrives_once_with_the_monolith_s_words(
    notifications: httpx.AsyncClient, producer: AIOKafkaProducer, smtp_sink: RunningSink
) -> None:
    user, invoice = new_user("ada"), str(uuid.uuid4())
    await publish(producer, user.registered())
    for event in billing_story(user, invoice):
        await publish(producer, event, source="/billing")

    async def all_five_sent() -> bool:
        listed = await notifications_of(notifications, user)
        return len(listed) == 5 and {n["status"] for n in listed} == {"sent"}

    await eventually(all_five_sent, "five mails recorded as sent", WAIT_SECONDS)
    listed = await notifications_of(notifications, user)

    mails = {m.subject or "": m for m in smtp_sink.mail_to(user.email)}
    assert sorted(mails) == [
        "Invoice for Pro: 29.00 EUR",
        f"Payment failed for invoice {invoice}",
        "Payment received: 29.00 EUR",
        "Refund issued: 9.00 EUR",
        "Welcome to Strangler Fig, Ada",
    ]
    assert mails["Invoice for Pro: 29.00 EUR"].text == (
        f"Hello Ada,\n\ninvoice {invoice} for Pro (2026-12-01 to 2026-12-31) is due: 29.00 EUR.\n"
    )
    assert "failed: Your card was declined." in (
        mails[f"Payment failed for invoice {invoice}"].text or ""
    )
    assert sorted(str(n["kind"]) for n in listed) == [
        "invoice_issued",
        "payment_failed",
        "payment_succeeded",
        "refund_issued",
        "welcome",
    ]
    assert smtp_sink.sink.mailbox.duplicates() == []


async def test_a_password_change_is_mailed_under_the_name_the_user_goes_by_now(
    notifications: httpx.AsyncClient, producer: AIOKafkaProducer, smtp_sink: RunningSink
) -> None:
    user, now = new_user("grace"), datetime.now(UTC)
    await publish(producer, user.registered())
    renamed = UserProfileChanged(
        user_id=user.id, display_name="Grace H.", changed_at=now, origin="auth"
    )
    await publish(producer, renamed, source="/auth")
    await publish(
        producer, PasswordChanged(user_id=user.id, changed_at=now, origin="auth"), "/auth"
    )

    await eventually(lambda: len(smtp_sink.mail_to(user.email)) == 2, "two mails", WAIT_SECONDS)

    [changed] = [
        m for m in smtp_sink.mail_to(user.email) if m.subject == "Your password was changed"
    ]
    assert (changed.text or "").startswith("Hello Grace H.,\n\nthe password of ")


async def test_an_event_delivered_twice_sends_its_mail_once(
    notifications: httpx.AsyncClient, producer: AIOKafkaProducer, smtp_sink: RunningSink
) -> None:
    user = new_user("twice")
    envelope = encode(user.registered(), source="/legacy-monolith").model_dump_json().encode()
    for _ in range(3):
        await producer.send_and_wait(ACCOUNTS.name, envelope, key=user.id.encode())
    # The same user's next event, on the same partition: consumed after the three copies.
    later = PasswordChanged(user_id=user.id, changed_at=datetime.now(UTC), origin="auth")
    await publish(producer, later, source="/auth")

    async def both_sent() -> bool:
        listed = await notifications_of(notifications, user)
        return len(listed) == 2 and {n["status"] for n in listed} == {"sent"}

    await eventually(both_sent, "the welcome and the password mail sent", WAIT_SECONDS)

    subjects = sorted(m.subject or "" for m in smtp_sink.mail_to(user.email))
    assert subjects == ["Welcome to Strangler Fig, Twice", "Your password was changed"]


async def test_a_user_who_opted_out_of_billing_mail_gets_it_recorded_as_suppressed(
    notifications: httpx.AsyncClient, producer: AIOKafkaProducer, smtp_sink: RunningSink
) -> None:
    user, invoice = new_user("quiet"), str(uuid.uuid4())
    chosen = await notifications.put(
        "/api/notifications/preferences",
        json={"account_emails": True, "billing_emails": False},
        headers=user.headers,
    )
    assert chosen.status_code == 200
    await publish(producer, user.registered())
    for event in billing_story(user, invoice)[:2]:
        await publish(producer, event, source="/billing")

    async def both_recorded() -> bool:
        return len(await notifications_of(notifications, user)) == 2

    await eventually(both_recorded, "the welcome and the invoice recorded", WAIT_SECONDS)
    await eventually(lambda: bool(smtp_sink.mail_to(user.email)), "the welcome mail", WAIT_SECONDS)
    listed = {n["kind"]: n for n in await notifications_of(notifications, user)}

    assert listed["invoice_issued"]["status"] == "suppressed"
    assert listed["invoice_issued"]["sent_at"] is None
    assert [m.subject for m in smtp_sink.mail_to(user.email)] == ["Welcome to Strangler Fig, Quiet"]


async def test_a_billing_event_that_arrives_before_the_registration_waits_for_it(
    notifications: httpx.AsyncClient, producer: AIOKafkaProducer, smtp_sink: RunningSink
) -> None:
    user, invoice = new_user("early"), str(uuid.uuid4())
    for event in billing_story(user, invoice)[:2]:
        await publish(producer, event, source="/billing")
    await publish(producer, user.registered())

    await eventually(
        lambda: len(smtp_sink.mail_to(user.email)) == 2, "the invoice and welcome", WAIT_SECONDS
    )

    assert sorted(m.subject or "" for m in smtp_sink.mail_to(user.email)) == [
        "Invoice for Pro: 29.00 EUR",
        "Welcome to Strangler Fig, Early",
    ]


async def test_with_sending_off_the_service_leaves_every_mail_to_the_monolith(
    settings: SettingsFactory,
    producer: AIOKafkaProducer,
    smtp_sink: RunningSink,
    engine: AsyncEngine,
) -> None:
    async with started(create_app(settings(sending="off")), BASE_URL) as client:
        user = new_user("legacy")
        event_id = await publish(producer, user.registered())

        async def consumed() -> bool:
            async with engine.connect() as connection:
                found = await connection.scalar(
                    select(inbox.c.event_id).where(inbox.c.event_id == event_id)
                )
            return found is not None

        await eventually(consumed, "the registration consumed", WAIT_SECONDS)

        assert await notifications_of(client, user) == []
    assert smtp_sink.mail_to(user.email) == []
