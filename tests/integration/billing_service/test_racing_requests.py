"""Requests that race each other on PostgreSQL: one wins, the rest are told why not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from billing_service.adapters.orm import outbox, payments, subscriptions
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.entrypoints.app import create_app
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.billing_service.checkouts import in_process_payments
from tests.integration.billing_service.conftest import (
    BASE_URL,
    PAYMENT_TIMEOUT_SECONDS,
    SettingsFactory,
    known_customer,
)
from tests.support.asgi import started
from tests.support.monolith_api import assert_problem, new_key, pay, subscribe
from tests.support.racing_payments import (
    PausesAfterItsFirstCharge,
    assert_charged_once,
    paid_while_paused,
    payments_published,
)

pytestmark = pytest.mark.integration

RACERS = 5
CROWD = 20
"""More payments at once than the pool has connections (5 kept + 10 overflow)."""
PATIENT_TIMEOUT_SECONDS = 10.0


async def test_racing_payments_of_one_invoice_charge_it_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    payment_simulator: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    customer = await known_customer(app)
    invoice_id = (await subscribe(client, customer))["invoice"]["id"]

    responses = await asyncio.gather(
        *(pay(client, customer, invoice_id, key=new_key()) for _ in range(RACERS))
    )

    winners = [r for r in responses if r.status_code == 201]
    losers = [r for r in responses if r.status_code != 201]
    assert {r.status_code for r in losers} <= {409}
    assert {r.json()["type"].rsplit("/", 1)[-1] for r in losers} <= {
        "payment-in-progress",
        "invoice-already-paid",
    }
    # On a machine slow enough for a racer to find the attempt older than three provider
    # timeouts (0.1 s here), it takes the attempt over under the same provider key and is
    # answered with the same charge (the test below makes that happen): more than one 201,
    # never more than one charge.
    await assert_charged_once(payment_simulator, winners)
    async with engine.connect() as connection:
        recorded = await connection.scalar(
            select(func.count()).select_from(payments).where(payments.c.invoice_id == invoice_id)
        )
    assert recorded == 1


class PausedSimulatorClient(PausesAfterItsFirstCharge, PaymentSimulatorClient):
    pass


async def test_a_payment_taken_over_while_its_request_is_paused_is_recorded_once(
    settings: SettingsFactory,
    payment_simulator_app: FastAPI,
    payment_simulator: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    resolved = settings()
    payments = in_process_payments(resolved, payment_simulator_app, PausedSimulatorClient)
    app = create_app(resolved, payments=payments)
    async with started(app, BASE_URL) as client:
        customer = await known_customer(app)
        invoice_id = (await subscribe(client, customer))["invoice"]["id"]
        first, racer = await paid_while_paused(
            client, payments, PAYMENT_TIMEOUT_SECONDS, customer, invoice_id
        )

    # Both payers are answered with the one charge; the payment is recorded and published once.
    assert [first.status_code, racer.status_code] == [201, 201]
    await assert_charged_once(payment_simulator, [first, racer])
    assert await payments_published(engine, outbox) == 1


async def test_racing_subscriptions_of_one_customer_start_exactly_one(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    customer = await known_customer(app)

    responses = await asyncio.gather(
        *(
            client.post(
                "/api/billing/subscriptions", json={"plan_id": "pro"}, headers=customer.auth
            )
            for _ in range(RACERS)
        )
    )

    [winner] = [r for r in responses if r.status_code == 201]
    for loser in (r for r in responses if r is not winner):
        problem = assert_problem(loser, 409, "already-subscribed")
        assert problem["subscription_id"] == winner.json()["subscription"]["id"]
    async with engine.connect() as connection:
        started = await connection.scalar(
            select(func.count())
            .select_from(subscriptions)
            .where(subscriptions.c.customer_id == customer.id)
        )
    assert started == 1


@pytest.fixture
async def patient_client(
    settings: SettingsFactory, payment_simulator_app: FastAPI
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Billing with a provider timeout long enough that no attempt of the crowd below counts
    as abandoned while it runs (abandoned: three timeouts)."""
    resolved = settings(payment_timeout_seconds=PATIENT_TIMEOUT_SECONDS)
    payments = in_process_payments(resolved, payment_simulator_app, PaymentSimulatorClient)
    app = create_app(resolved, payments=payments)
    async with started(app, BASE_URL) as client:
        yield app, client


async def test_twenty_payments_under_one_key_share_the_pool_and_charge_once(
    patient_client: tuple[FastAPI, httpx.AsyncClient], payment_simulator: httpx.AsyncClient
) -> None:
    app, client = patient_client
    customer = await known_customer(app)
    invoice_id = (await subscribe(client, customer))["invoice"]["id"]
    key = new_key()

    *responses, plans = await asyncio.gather(
        *(pay(client, customer, invoice_id, key=key) for _ in range(CROWD)),
        client.get("/api/billing/plans"),
    )

    assert plans.status_code == 200
    paid = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert {r.status_code for r in refused} <= {409}
    assert {r.json()["type"].rsplit("/", 1)[-1] for r in refused} <= {"payment-in-progress"}
    assert len({r.json()["payment"]["id"] for r in paid}) == 1
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    assert [c["status"] for c in charges["items"]] == ["succeeded"]
