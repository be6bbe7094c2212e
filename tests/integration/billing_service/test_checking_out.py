"""The checkout saga on real PostgreSQL and the real payment simulator: every way a checkout
ends, each compensation, and the idempotency that keeps a customer from being charged twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from billing_service.adapters.orm import sagas, subscriptions
from fastapi import FastAPI
from payment_simulator.app import create_app as create_payment_simulator
from payment_simulator.settings import Settings as PaymentSimulatorSettings
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.billing_service.checkouts import (
    FAST_SAGAS,
    billing_app,
    charges_for,
    check_out,
    outbox_events,
    settled,
)
from tests.integration.billing_service.conftest import SettingsFactory, known_customer, token_for
from tests.support.monolith_api import (
    DECLINED_CARD,
    GOOD_CARD,
    HANGING_CARD,
    Customer,
    assert_problem,
    new_key,
    subscribe,
)
from tests.support.monolith_database import Snapshot
from tests.support.operator import OPERATOR_HEADERS
from tests.support.serving import serving

pytestmark = pytest.mark.integration

SlowSimulator = tuple[str, httpx.AsyncClient]


@pytest.fixture
async def checkout_app(
    settings: SettingsFactory, payment_simulator_app: FastAPI
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Billing with its sagas running, paying through the in-process simulator."""
    async with billing_app(settings(**FAST_SAGAS), payment_simulator_app) as started:
        yield started


@pytest.fixture
def client(checkout_app: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return checkout_app[1]


@pytest.fixture
async def customer(checkout_app: tuple[FastAPI, httpx.AsyncClient]) -> Customer:
    return await known_customer(checkout_app[0])


@pytest.fixture
async def slow_simulator() -> AsyncIterator[SlowSimulator]:
    """The simulator on a real port, taking 0.6 s for every charge: longer than the checkout
    waits for it below, so the checkout's call times out while the charge still goes through."""
    app = create_payment_simulator(PaymentSimulatorSettings(latency_ms=600, hang_seconds=0.3))
    async with (
        serving(app) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield url, client


def _outcomes(checkout: dict[str, Any]) -> dict[str, str]:
    return {step["name"]: step["state"] for step in checkout["steps"]}


async def _subscription(
    client: httpx.AsyncClient, customer: Customer, subscription_id: str
) -> dict[str, Any]:
    answer = await client.get(
        f"/api/billing/subscriptions/{subscription_id}", headers=customer.auth
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def _invoice(
    client: httpx.AsyncClient, customer: Customer, invoice_id: str
) -> dict[str, Any]:
    answer = await client.get(f"/api/billing/invoices/{invoice_id}", headers=customer.auth)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_a_paid_checkout_activates_the_subscription_and_publishes_its_events(
    client: httpx.AsyncClient,
    customer: Customer,
    engine: AsyncEngine,
    payment_simulator: httpx.AsyncClient,
) -> None:
    accepted = await check_out(client, customer, "pro", GOOD_CARD)

    assert accepted.status_code == 202, accepted.text
    started = accepted.json()
    assert accepted.headers["location"] == f"/api/billing/checkout/{started['id']}"
    assert (started["plan_id"], started["card_last4"]) == ("pro", "4242")
    assert "card_number" not in accepted.text
    assert GOOD_CARD not in accepted.text

    checkout = await settled(client, customer, started["id"])

    assert (checkout["status"], checkout["failure"]) == ("completed", None)
    assert _outcomes(checkout) == {
        "start-subscription": "succeeded",
        "issue-invoice": "succeeded",
        "charge-card": "succeeded",
        "activate-subscription": "succeeded",
    }
    subscription = await _subscription(client, customer, checkout["subscription_id"])
    invoice = await _invoice(client, customer, checkout["invoice_id"])
    assert (subscription["status"], subscription["plan_id"]) == ("active", "pro")
    assert (invoice["status"], invoice["amount_cents"]) == ("paid", 2900)
    assert (checkout["amount_cents"], checkout["currency"]) == (2900, "eur")
    events = await outbox_events(engine, checkout["subscription_id"])
    assert [kind for kind, _ in events] == [
        "subscription-started",
        "invoice-issued",
        "payment-succeeded",
        "subscription-activated",
    ]
    activated = events[-1][1]
    assert (activated["invoice_id"], activated["plan_id"], activated["user_id"]) == (
        checkout["invoice_id"],
        "pro",
        customer.id,
    )
    charges = await charges_for(payment_simulator, checkout["invoice_id"])
    assert [(c["status"], c["amount"], c["amount_refunded"]) for c in charges] == [
        ("succeeded", 2900, 0)
    ]


async def test_declined_card_voids_invoice_and_cancels_subscription(
    client: httpx.AsyncClient,
    customer: Customer,
    engine: AsyncEngine,
    payment_simulator: httpx.AsyncClient,
) -> None:
    accepted = await check_out(client, customer, "starter", DECLINED_CARD)
    assert accepted.status_code == 202, accepted.text

    checkout = await settled(client, customer, accepted.json()["id"])

    assert checkout["status"] == "compensated"
    assert checkout["failure"] == "charge-card: card declined (generic_decline)"
    assert _outcomes(checkout) == {
        "start-subscription": "compensated",
        "issue-invoice": "compensated",
        "charge-card": "failed",
        "activate-subscription": "not_run",
    }
    invoice = await _invoice(client, customer, checkout["invoice_id"])
    subscription = await _subscription(client, customer, checkout["subscription_id"])
    assert invoice["status"] == "void"
    assert subscription["status"] == "cancelled"
    events = await outbox_events(engine, checkout["subscription_id"])
    assert [kind for kind, _ in events] == [
        "subscription-started",
        "invoice-issued",
        "payment-failed",
        "subscription-cancelled",
    ]
    assert events[2][1]["failure_code"] == "generic_decline"
    assert events[3][1]["voided_invoice_ids"] == [checkout["invoice_id"]]
    charges = await charges_for(payment_simulator, checkout["invoice_id"])
    assert [c["status"] for c in charges] == ["failed"]
    again = await subscribe(client, customer, "starter")
    assert again["subscription"]["status"] == "active", "nothing is left blocking the customer"


async def test_a_charge_the_provider_timed_out_on_is_compensated_without_charging(
    client: httpx.AsyncClient,
    customer: Customer,
    engine: AsyncEngine,
    payment_simulator: httpx.AsyncClient,
) -> None:
    accepted = await check_out(client, customer, "pro", HANGING_CARD)
    assert accepted.status_code == 202, accepted.text

    checkout = await settled(client, customer, accepted.json()["id"])

    assert checkout["status"] == "compensated"
    assert checkout["failure"].startswith("charge-card: gave up after 3 attempts")
    assert _outcomes(checkout) == {
        "start-subscription": "compensated",
        "issue-invoice": "compensated",
        "charge-card": "compensated",
        "activate-subscription": "not_run",
    }
    assert (await _invoice(client, customer, checkout["invoice_id"]))["status"] == "void"
    subscription = await _subscription(client, customer, checkout["subscription_id"])
    assert subscription["status"] == "cancelled"
    events = await outbox_events(engine, checkout["subscription_id"])
    assert [kind for kind, _ in events] == [
        "subscription-started",
        "invoice-issued",
        "payment-failed",
        "subscription-cancelled",
    ]
    assert events[2][1]["failure_code"] == "provider_timeout"
    assert await charges_for(payment_simulator, checkout["invoice_id"]) == []


async def test_a_charge_that_went_through_after_the_checkout_stopped_waiting_is_refunded(
    settings: SettingsFactory, slow_simulator: SlowSimulator, engine: AsyncEngine
) -> None:
    url, simulator = slow_simulator
    impatient = settings(
        **FAST_SAGAS | {"checkout_payment_timeout_seconds": 0.2, "checkout_charge_attempts": 1}
    )
    async with billing_app(impatient, url) as (app, client):
        customer = await known_customer(app)
        accepted = await check_out(client, customer, "business", GOOD_CARD)
        assert accepted.status_code == 202, accepted.text

        checkout = await settled(client, customer, accepted.json()["id"])

        assert checkout["status"] == "compensated"
        assert checkout["failure"].startswith("charge-card: gave up after 1 attempts")
        assert checkout["refund_id"] is not None
        invoice = await _invoice(client, customer, checkout["invoice_id"])
        assert (invoice["status"], invoice["amount_refunded_cents"]) == ("refunded", 9900)
        subscription = await _subscription(client, customer, checkout["subscription_id"])
        assert subscription["status"] == "cancelled"
    charges = await charges_for(simulator, checkout["invoice_id"])
    assert [(c["status"], c["amount"], c["amount_refunded"]) for c in charges] == [
        ("succeeded", 9900, 9900)
    ]
    events = await outbox_events(engine, checkout["subscription_id"])
    assert [kind for kind, _ in events] == [
        "subscription-started",
        "invoice-issued",
        "payment-succeeded",
        "refund-issued",
        "subscription-cancelled",
    ]
    assert events[-1][1]["voided_invoice_ids"] == []


async def test_a_saga_is_never_charged_twice(
    settings: SettingsFactory, slow_simulator: SlowSimulator
) -> None:
    url, simulator = slow_simulator
    impatient = settings(
        **FAST_SAGAS | {"checkout_payment_timeout_seconds": 0.2, "checkout_charge_attempts": 8}
    )
    async with billing_app(impatient, url) as (app, client):
        customer = await known_customer(app)
        accepted = await check_out(client, customer, "pro", GOOD_CARD)
        checkout = await settled(client, customer, accepted.json()["id"])
        answer = await client.get(f"/internal/sagas/{checkout['id']}", headers=OPERATOR_HEADERS)
        assert answer.status_code == 200, answer.text
        detail = answer.json()

    assert checkout["status"] == "completed"
    charge_attempts = [entry for entry in detail["history"] if entry["step"] == "charge-card"]
    assert len(charge_attempts) >= 2, "the first attempt stopped waiting before the provider"
    assert charge_attempts[0]["outcome"] == "errored"
    assert charge_attempts[-1]["outcome"] == "succeeded"
    charges = await charges_for(simulator, checkout["invoice_id"])
    assert [(c["status"], c["amount"]) for c in charges] == [("succeeded", 2900)]


async def test_a_checkout_retried_with_the_same_key_is_one_saga(
    client: httpx.AsyncClient,
    customer: Customer,
    engine: AsyncEngine,
    payment_simulator: httpx.AsyncClient,
) -> None:
    key = new_key()

    answers = await asyncio.gather(*(check_out(client, customer, key=key) for _ in range(3)))
    later = await check_out(client, customer, key=key)

    assert [answer.status_code for answer in [*answers, later]] == [202] * 4
    assert len({answer.json()["id"] for answer in [*answers, later]}) == 1
    assert later.headers["idempotent-replayed"] == "true"
    checkout = await settled(client, customer, later.json()["id"])
    assert checkout["status"] == "completed"
    async with engine.connect() as connection:
        saga_count = await connection.scalar(select(func.count()).select_from(sagas.sagas))
        subscription_count = await connection.scalar(
            select(func.count())
            .select_from(subscriptions)
            .where(subscriptions.c.customer_id == customer.id)
        )
    assert (saga_count, subscription_count) == (1, 1)
    assert len(await charges_for(payment_simulator, checkout["invoice_id"])) == 1
    other_plan = await check_out(client, customer, "business", key=key)
    assert_problem(other_plan, 422, "idempotency-key-reused")


async def test_bad_checkout_requests_are_refused_and_write_nothing(
    checkout_app: tuple[FastAPI, httpx.AsyncClient], customer: Customer, snapshot: Snapshot
) -> None:
    app, client = checkout_app
    subscribed = await known_customer(app, "subscriber")
    await subscribe(client, subscribed, "pro")
    stranger_id, stranger_email = "never-registered", "stranger@example.com"
    stranger = Customer(stranger_id, stranger_email, "-", token_for(stranger_id, stranger_email))
    before = await snapshot()

    def post(body: Any, who: Customer = customer, **headers: str) -> Any:
        return client.post("/api/billing/checkout", json=body, headers={**who.auth, **headers})

    assert_problem(await post({"plan_id": "gold", "card_number": GOOD_CARD}), 422, "unknown-plan")
    unknown = await post({"plan_id": "pro", "card_number": GOOD_CARD}, stranger)
    assert_problem(unknown, 409, "customer-unknown")
    assert unknown.headers["retry-after"] == "1"
    already = await post({"plan_id": "starter", "card_number": GOOD_CARD}, subscribed)
    assert_problem(already, 409, "already-subscribed")
    assert_problem(await post({"plan_id": "pro"}), 422, "validation-failed")
    assert_problem(
        await post({"plan_id": "pro", "card_number": "4242424242424241"}), 422, "validation-failed"
    )
    assert_problem(
        await post({"plan_id": "pro", "card_number": GOOD_CARD, "coupon": "FREE"}),
        422,
        "validation-failed",
    )
    assert_problem(await post({"plan_id": 7, "card_number": GOOD_CARD}), 422, "validation-failed")
    not_json = await client.post(
        "/api/billing/checkout",
        content=b"{plan",
        headers={**customer.auth, "content-type": "application/json"},
    )
    assert_problem(not_json, 400, "malformed-json")
    anonymous = await client.post(
        "/api/billing/checkout", json={"plan_id": "pro", "card_number": GOOD_CARD}
    )
    assert_problem(anonymous, 401, "unauthenticated")
    assert_problem(
        await client.get("/api/billing/checkout/no-such-checkout", headers=customer.auth),
        404,
        "not-found",
    )

    assert await snapshot() == before


async def test_a_customer_sees_only_their_own_checkouts(
    checkout_app: tuple[FastAPI, httpx.AsyncClient], customer: Customer
) -> None:
    app, client = checkout_app
    other = await known_customer(app, "other")
    accepted = await check_out(client, customer)

    answer = await client.get(f"/api/billing/checkout/{accepted.json()['id']}", headers=other.auth)

    assert_problem(answer, 404, "not-found")


async def test_operators_see_every_saga_with_its_whole_history_outside_the_api(
    client: httpx.AsyncClient, customer: Customer
) -> None:
    accepted = await check_out(client, customer, "pro", DECLINED_CARD)
    checkout = await settled(client, customer, accepted.json()["id"])

    listed = await client.get(
        "/internal/sagas", params={"status": "compensated"}, headers=OPERATOR_HEADERS
    )
    detail = await client.get(f"/internal/sagas/{checkout['id']}", headers=OPERATOR_HEADERS)

    assert listed.status_code == 200, listed.text
    assert [(s["id"], s["type"], s["status"]) for s in listed.json()["items"]] == [
        (checkout["id"], "checkout", "compensated")
    ]
    assert detail.status_code == 200, detail.text
    saga = detail.json()
    assert "card_number" not in saga["data"], "a finished checkout keeps no card number"
    assert saga["data"]["card_last4"] == "0002"
    assert DECLINED_CARD not in detail.text
    assert [(e["step"], e["phase"], e["outcome"]) for e in saga["history"]] == [
        ("start-subscription", "action", "succeeded"),
        ("issue-invoice", "action", "succeeded"),
        ("charge-card", "action", "failed"),
        ("issue-invoice", "compensation", "succeeded"),
        ("start-subscription", "compensation", "succeeded"),
    ]
    odd = await client.get("/internal/sagas", params={"status": "odd"}, headers=OPERATOR_HEADERS)
    assert_problem(odd, 422, "validation-failed")
    assert_problem(
        await client.get("/internal/sagas/no-such-saga", headers=OPERATOR_HEADERS),
        404,
        "saga-not-found",
    )
