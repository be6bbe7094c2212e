"""Requests that race each other on PostgreSQL: one wins, the rest are told why not."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.billing.payment_provider import HttpPaymentProvider
from legacy_monolith.models import Payment, User, outbox
from legacy_monolith.notifications.mailer import RecordingMailer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.monolith.conftest import (
    PAYMENT_TIMEOUT_SECONDS,
    monolith_on,
    simulator_client,
)
from tests.support.monolith_api import (
    assert_problem,
    new_key,
    pay,
    register,
    sign_up_and_subscribe,
    unique_email,
)
from tests.support.racing_payments import (
    PausesAfterItsFirstCharge,
    assert_charged_once,
    paid_while_paused,
    payments_published,
)

pytestmark = pytest.mark.integration

RACERS = 5


def _problem_slug(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")
    slug: str = response.json()["type"].rsplit("/", 1)[-1]
    return slug


async def test_racing_payments_of_one_invoice_charge_it_once(
    client: httpx.AsyncClient, payment_simulator: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    subscriber = await sign_up_and_subscribe(client)

    responses = await asyncio.gather(
        *(
            pay(client, subscriber.customer, subscriber.invoice_id, key=new_key())
            for _ in range(RACERS)
        )
    )

    winners = [r for r in responses if r.status_code == 201]
    losers = [r for r in responses if r.status_code != 201]
    assert {r.status_code for r in losers} <= {409}
    assert {_problem_slug(r) for r in losers} <= {"payment-in-progress", "invoice-already-paid"}
    # On a machine slow enough for a racer to find the attempt older than three provider
    # timeouts (0.1 s here), it takes the attempt over under the same provider key and is
    # answered with the same charge (the test below makes that happen): more than one 201,
    # never more than one charge.
    await assert_charged_once(payment_simulator, winners)
    async with engine.connect() as connection:
        recorded = await connection.scalar(
            select(func.count())
            .select_from(Payment)
            .where(Payment.invoice_id == subscriber.invoice_id)
        )
    assert recorded == 1


class PausedSimulatorClient(PausesAfterItsFirstCharge, HttpPaymentProvider):
    pass


async def test_a_payment_taken_over_while_its_request_is_paused_is_recorded_once(
    database_url: str,
    payment_simulator_app: FastAPI,
    payment_simulator: httpx.AsyncClient,
    mailer: RecordingMailer,
    engine: AsyncEngine,
) -> None:
    payments = simulator_client(payment_simulator_app, PausedSimulatorClient)
    async with monolith_on(database_url, payment_simulator_app, mailer, payments) as client:
        subscriber = await sign_up_and_subscribe(client)
        first, racer = await paid_while_paused(
            client, payments, PAYMENT_TIMEOUT_SECONDS, subscriber.customer, subscriber.invoice_id
        )

    # Both payers are answered with the one charge; the payment is recorded, published and
    # mailed once.
    assert [first.status_code, racer.status_code] == [201, 201]
    await assert_charged_once(payment_simulator, [first, racer])
    receipts = [m for m in mailer.sent if m.subject.startswith("Payment received")]
    assert [m.to for m in receipts] == [subscriber.customer.email]
    assert await payments_published(engine, outbox) == 1


async def test_racing_registrations_of_one_email_create_one_account(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    email = unique_email("racer")
    spellings = [email, email.upper(), email, email.title(), email]

    responses = await asyncio.gather(*(register(client, spelling) for spelling in spellings))

    assert sorted(r.status_code for r in responses) == [201] + [409] * (RACERS - 1)
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "duplicate-email")
    async with engine.connect() as connection:
        accounts = await connection.scalar(
            select(func.count()).select_from(User).where(User.email == email)
        )
    assert accounts == 1
