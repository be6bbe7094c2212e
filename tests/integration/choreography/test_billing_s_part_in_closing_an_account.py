"""Billing's part in closing an account, through the real broker: it hears
``AccountClosureRequested``, cancels the subscription, refunds the unused part of the paid
period through the payment simulator, and publishes its outcome — or, when the card's
issuer declines the refund, ``AccountClosureRefundDeclined``. Nobody calls billing.

Each test has a consumer group of its own on the session's broker; assertions look only at
this test's user (the events' subject).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from billing_service.adapters.orm import inbox, outbox
from billing_service.domain.periods import unused_part_cents
from embedded_broker import EmbeddedBroker
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts import AccountClosureRequested
from strangler_contracts.topics import BILLING

from tests.integration.billing_service.conftest import known_customer
from tests.integration.choreography.closures import publish
from tests.support.broker_records import events_about
from tests.support.monolith_api import Customer, pay, subscribe
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

REFUSES_REFUNDS = "4000000000005126"
EVENT_TYPE = "dev.strangler-fig.{}.v1"
REQUESTED = EVENT_TYPE.format("accounts.account-closure-requested")
CLOSED = EVENT_TYPE.format("billing.billing-closed-for-account")
DECLINED = EVENT_TYPE.format("billing.account-closure-refund-declined")
CANCELLED = EVENT_TYPE.format("billing.subscription-cancelled")
REFUNDED = EVENT_TYPE.format("billing.refund-issued")
WAIT_SECONDS = 45.0


async def _paying_subscriber(
    app: FastAPI, client: httpx.AsyncClient, card_number: str
) -> tuple[Customer, dict[str, Any]]:
    customer = await known_customer(app, "closing")
    invoice = (await subscribe(client, customer))["invoice"]
    paid = await pay(client, customer, invoice["id"], card_number=card_number)
    assert paid.status_code == 201, paid.text
    return customer, paid.json()["invoice"]


async def _ask_to_close(
    producer: AIOKafkaProducer, customer: Customer, closure_id: str, requested_at: datetime
) -> None:
    """What auth publishes when the user closes their account."""
    request = AccountClosureRequested(
        closure_id=closure_id,
        user_id=customer.id,
        email=customer.email,
        display_name="Closing",
        requested_at=requested_at,
    )
    await publish(producer, request, "/auth", closure_id)


async def _billing_events(
    broker: EmbeddedBroker, customer: Customer, expected: int
) -> dict[str, dict[str, Any]]:
    found = await events_about(
        broker.bootstrap_servers, BILLING.name, customer.id, expected, WAIT_SECONDS
    )
    assert len(found) >= expected, [envelope["type"] for envelope, _ in found]
    return {envelope["type"]: envelope for envelope, _ in found}


async def _heard(engine: AsyncEngine, group: str, times: int) -> bool:
    async with engine.connect() as connection:
        heard = await connection.scalar(
            select(func.count())
            .select_from(inbox)
            .where(inbox.c.consumer_group == group, inbox.c.event_type == REQUESTED)
        )
    return heard == times


async def _outcomes_written(engine: AsyncEngine, customer: Customer) -> int:
    async with engine.connect() as connection:
        written = await connection.scalar(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.key == customer.id, outbox.c.event_type.in_([CLOSED, DECLINED]))
        )
    return int(written or 0)


async def test_closing_cancels_the_subscription_and_refunds_the_unused_part_once(
    billing: tuple[FastAPI, httpx.AsyncClient],
    engine: AsyncEngine,
    group: str,
    broker: EmbeddedBroker,
    producer: AIOKafkaProducer,
    payment_simulator: httpx.AsyncClient,
) -> None:
    app, client = billing
    customer, invoice = await _paying_subscriber(app, client, "4242424242424242")
    closure_id, requested_at = f"closure-{uuid.uuid4()}", datetime.now(UTC)

    await _ask_to_close(producer, customer, closure_id, requested_at)
    # started, issued, paid, then cancelled, refunded, closed
    events = await _billing_events(broker, customer, 6)
    await _ask_to_close(producer, customer, closure_id, requested_at)  # heard twice

    closed = events[CLOSED]["data"]
    expected = unused_part_cents(
        invoice["amount_cents"],
        datetime.fromisoformat(invoice["period_start"]),
        datetime.fromisoformat(invoice["period_end"]),
        requested_at,
    )
    assert 0 < expected < invoice["amount_cents"]
    assert (closed["closure_id"], closed["refunded_cents"]) == (closure_id, expected)
    assert closed["cancelled_subscription_id"] == invoice["subscription_id"]
    assert events[REFUNDED]["data"]["amount_cents"] == expected
    for caused in (CANCELLED, REFUNDED, CLOSED):
        assert events[caused]["correlationid"] == closure_id
    subscription = await client.get(
        f"/api/billing/subscriptions/{invoice['subscription_id']}", headers=customer.auth
    )
    assert subscription.json()["status"] == "cancelled"
    await eventually(
        lambda: _heard(engine, group, 2), "billing heard the request twice", WAIT_SECONDS
    )
    assert await _outcomes_written(engine, customer) == 1  # the second changed nothing
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    charge = next(c for c in charges["items"] if c["amount_refunded"] == expected)
    assert charge["amount"] == invoice["amount_cents"]


async def test_a_refund_the_issuer_declines_pauses_the_closure_with_the_reason(
    billing: tuple[FastAPI, httpx.AsyncClient],
    broker: EmbeddedBroker,
    producer: AIOKafkaProducer,
) -> None:
    app, client = billing
    customer, invoice = await _paying_subscriber(app, client, REFUSES_REFUNDS)
    closure_id = f"closure-{uuid.uuid4()}"

    await _ask_to_close(producer, customer, closure_id, datetime.now(UTC))
    # started, issued, paid, then cancelled and declined: no refund, no closed
    events = await _billing_events(broker, customer, 5)

    declined = events[DECLINED]["data"]
    assert (declined["closure_id"], declined["invoice_id"]) == (closure_id, invoice["id"])
    assert declined["amount_cents"] > 0
    assert "declined" in declined["reason"]
    assert CLOSED not in events
    assert REFUNDED not in events
    assert events[DECLINED]["correlationid"] == closure_id
    refreshed = await client.get(f"/api/billing/invoices/{invoice['id']}", headers=customer.auth)
    assert refreshed.json()["amount_refunded_cents"] == 0


async def test_a_customer_without_a_subscription_is_closed_at_once_with_nothing_refunded(
    billing: tuple[FastAPI, httpx.AsyncClient],
    broker: EmbeddedBroker,
    producer: AIOKafkaProducer,
) -> None:
    app, _ = billing
    customer = await known_customer(app, "never-subscribed")
    closure_id = f"closure-{uuid.uuid4()}"

    await _ask_to_close(producer, customer, closure_id, datetime.now(UTC))
    events = await _billing_events(broker, customer, 1)

    closed = events[CLOSED]["data"]
    assert closed["closure_id"] == closure_id
    assert (closed["cancelled_subscription_id"], closed["refund_id"]) == (None, None)
    assert closed["refunded_cents"] == 0


async def _ask_again(
    producer: AIOKafkaProducer,
    customer: Customer,
    closure_id: str,
    requested_at: datetime,
    attempt: int,
) -> None:
    """What the accounts side publishes when the user resumes a paused closure."""
    request = AccountClosureRequested(
        closure_id=closure_id,
        user_id=customer.id,
        email=customer.email,
        display_name="Closing",
        requested_at=requested_at,
        attempt=attempt,
    )
    await publish(producer, request, "/auth", closure_id)


async def _of_types(
    broker: EmbeddedBroker, customer: Customer, expected: int
) -> list[dict[str, Any]]:
    found = await events_about(
        broker.bootstrap_servers, BILLING.name, customer.id, expected, WAIT_SECONDS
    )
    assert len(found) >= expected, [envelope["type"] for envelope, _ in found]
    return [envelope for envelope, _ in found]


async def test_a_resumed_closure_tries_the_declined_refund_again(
    billing: tuple[FastAPI, httpx.AsyncClient],
    broker: EmbeddedBroker,
    producer: AIOKafkaProducer,
) -> None:
    app, client = billing
    customer, invoice = await _paying_subscriber(app, client, REFUSES_REFUNDS)
    closure_id, requested_at = f"closure-{uuid.uuid4()}", datetime.now(UTC)
    await _ask_to_close(producer, customer, closure_id, requested_at)
    await _of_types(broker, customer, 5)  # started, issued, paid, cancelled, declined

    await _ask_again(producer, customer, closure_id, requested_at, attempt=2)
    # the issuer of this card declines every refund: declined again, for the same amount
    events = await _of_types(broker, customer, 6)

    declines = [e["data"] for e in events if e["type"] == DECLINED]
    assert len(declines) == 2
    assert {d["invoice_id"] for d in declines} == {invoice["id"]}
    assert declines[0]["amount_cents"] == declines[1]["amount_cents"] > 0
    assert [e["type"] for e in events].count(CANCELLED) == 1


async def test_a_closure_resumed_after_its_refund_went_through_refunds_nothing_twice(
    billing: tuple[FastAPI, httpx.AsyncClient],
    broker: EmbeddedBroker,
    producer: AIOKafkaProducer,
) -> None:
    app, client = billing
    customer, invoice = await _paying_subscriber(app, client, "4242424242424242")
    closure_id, requested_at = f"closure-{uuid.uuid4()}", datetime.now(UTC)
    await _ask_to_close(producer, customer, closure_id, requested_at)
    await _of_types(broker, customer, 6)  # started, issued, paid, cancelled, refunded, closed

    await _ask_again(producer, customer, closure_id, requested_at, attempt=2)
    events = await _of_types(broker, customer, 7)

    closings = [e["data"] for e in events if e["type"] == CLOSED]
    assert len(closings) == 2
    assert closings[0]["refund_id"] == closings[1]["refund_id"] is not None
    assert [e["type"] for e in events].count(REFUNDED) == 1
    refreshed = await client.get(f"/api/billing/invoices/{invoice['id']}", headers=customer.auth)
    assert refreshed.json()["amount_refunded_cents"] == closings[0]["refunded_cents"]
