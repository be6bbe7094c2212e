"""Notifications' part in closing an account, through the real broker and SMTP sink: once
billing is done it mails the farewell, then erases everything it holds about the user and
says so (``FarewellSentAndDataErased``, correlated by the closure); when billing could not
refund, it mails the user why and erases nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from embedded_broker import EmbeddedBroker
from notifications_service.adapters.tables import notifications, recipients, send_ledger
from notifications_service.entrypoints.app import create_app
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts import (
    AccountClosureRefundDeclined,
    BillingClosedForAccount,
    IntegrationEvent,
    RefundIssued,
)
from strangler_contracts.topics import NOTIFICATIONS

from tests.integration.choreography.closures import publish
from tests.integration.notifications.conftest import (
    BASE_URL,
    WAIT_SECONDS,
    OnlyThisTest,
    RunningSink,
    SettingsFactory,
    User,
    new_user,
)
from tests.integration.notifications.conftest import publish as publish_as_monolith
from tests.support.asgi import started
from tests.support.broker_records import events_about
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

ERASED = "dev.strangler-fig.notifications.farewell-sent-and-data-erased.v1"


@pytest.fixture
async def service(settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with started(create_app(settings(), switch=OnlyThisTest()), BASE_URL) as client:
        yield client


async def _known(producer: AIOKafkaProducer, engine: AsyncEngine, who: str) -> User:
    user = new_user(who)
    await publish_as_monolith(producer, user.registered())

    async def known() -> bool:
        return await _count(engine, recipients, user) == 1

    await eventually(known, "notifications learnt the user", WAIT_SECONDS)
    return user


async def _count(engine: AsyncEngine, table: object, user: User) -> int:
    async with engine.connect() as connection:
        found = await connection.scalar(
            select(func.count()).select_from(table).where(table.c.user_id == user.id)  # type: ignore[attr-defined]
        )
    return int(found or 0)


def _billed(user: User, closure_id: str) -> list[IntegrationEvent]:
    """What billing publishes for a closure that refunded 14.50 EUR."""
    now = datetime.now(UTC)
    refund = RefundIssued(
        refund_id=str(uuid.uuid4()),
        invoice_id=str(uuid.uuid4()),
        payment_id=str(uuid.uuid4()),
        subscription_id=str(uuid.uuid4()),
        user_id=user.id,
        amount_cents=1450,
        currency="EUR",
        invoice_refunded_cents=1450,
        refunded_at=now,
    )
    closed = BillingClosedForAccount(
        closure_id=closure_id,
        user_id=user.id,
        cancelled_subscription_id=refund.subscription_id,
        refund_id=refund.refund_id,
        refunded_cents=1450,
        currency="EUR",
        closed_at=now,
    )
    return [refund, closed]


async def test_billing_done_sends_the_farewell_then_erases_the_user(
    service: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    engine: AsyncEngine,
    smtp_sink: RunningSink,
    broker: EmbeddedBroker,
) -> None:
    user = await _known(producer, engine, "leaving")
    closure_id = f"closure-{uuid.uuid4()}"

    for event in _billed(user, closure_id):
        await publish(producer, event, "/billing", closure_id)
    erased: list[dict[str, Any]] = []

    async def announced() -> bool:
        nonlocal erased
        found = await events_about(broker.bootstrap_servers, NOTIFICATIONS.name, user.id, 99, 1)
        erased = [envelope for envelope, _ in found if envelope["type"] == ERASED]
        return bool(erased)

    await eventually(announced, "notifications said it erased the user", WAIT_SECONDS)
    assert len(erased) == 1
    assert erased[0]["correlationid"] == closure_id
    assert erased[0]["data"]["closure_id"] == closure_id
    mails = smtp_sink.mail_to(user.email)
    # Mails go out on several SMTP connections at once: the refund's and the farewell's
    # arrival order is not theirs to keep. What matters: each arrived once, and the erasure
    # (announced above, checked below) came after every one of them.
    assert sorted(m.subject or "" for m in mails) == sorted(
        [
            f"Welcome to Strangler Fig, {user.name}",
            "Refund issued: 14.50 EUR",
            f"Your account is closed, {user.name}",
        ]
    )
    farewell = next(m for m in mails if (m.subject or "").startswith("Your account is closed"))
    assert "We refunded 14.50 EUR for the unused part of your plan." in (farewell.text or "")
    assert erased[0]["data"]["farewell_message_id"] == farewell.message_id
    for table in (recipients, notifications, send_ledger):
        assert await _count(engine, table, user) == 0
    assert erased[0]["data"]["erased_records"] >= 5


async def test_a_declined_refund_is_mailed_and_nothing_is_erased(
    service: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    engine: AsyncEngine,
    smtp_sink: RunningSink,
) -> None:
    user = await _known(producer, engine, "paused")
    closure_id = f"closure-{uuid.uuid4()}"
    declined = AccountClosureRefundDeclined(
        closure_id=closure_id,
        user_id=user.id,
        subscription_id=str(uuid.uuid4()),
        invoice_id=str(uuid.uuid4()),
        amount_cents=1450,
        currency="EUR",
        reason="The issuer of the card declined the refund.",
        declined_at=datetime.now(UTC),
    )

    await publish(producer, declined, "/billing", closure_id)

    def mailed() -> bool:
        return any(
            m.subject == "Closing your account is paused" for m in smtp_sink.mail_to(user.email)
        )

    await eventually(mailed, "the user was told the closure is paused", WAIT_SECONDS)
    paused = next(m for m in smtp_sink.mail_to(user.email) if "paused" in (m.subject or ""))
    assert "14.50 EUR" in (paused.text or "")
    assert declined.reason in (paused.text or "")
    assert await _count(engine, recipients, user) == 1
