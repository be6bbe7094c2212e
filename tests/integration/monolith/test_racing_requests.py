"""Requests that race each other on PostgreSQL: one wins, the rest are told why not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.billing.payment_provider import Charge, HttpPaymentProvider
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
    assert winners, [r.status_code for r in responses]
    assert {r.status_code for r in losers} <= {409}
    assert {_problem_slug(r) for r in losers} <= {"payment-in-progress", "invoice-already-paid"}
    # On a machine slow enough for a racer to find the attempt older than three provider
    # timeouts (0.1 s here), it takes the attempt over under the same provider key and is
    # answered with the same charge: more than one 201, never more than one charge.
    [charge_id] = {r.json()["payment"]["provider_charge_id"] for r in winners}
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    assert [(c["id"], c["status"]) for c in charges["items"]] == [(charge_id, "succeeded")]
    async with engine.connect() as connection:
        recorded = await connection.scalar(
            select(func.count())
            .select_from(Payment)
            .where(Payment.invoice_id == subscriber.invoice_id)
        )
    assert recorded == 1


class PausedAfterItsFirstAnswer(HttpPaymentProvider):
    """The real client, whose first charge's caller stops after the provider answered and
    before it records the answer, while ``meanwhile`` runs: a machine too busy to go on."""

    meanwhile: Callable[[], Awaitable[None]] | None = None

    async def charge(
        self, *, amount_cents: int, currency: str, card_number: str, description: str, key: str
    ) -> Charge:
        answer = await super().charge(
            amount_cents=amount_cents,
            currency=currency,
            card_number=card_number,
            description=description,
            key=key,
        )
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            await meanwhile()
        return answer


async def test_a_payment_taken_over_while_its_request_is_paused_is_recorded_once(
    database_url: str,
    payment_simulator_app: FastAPI,
    payment_simulator: httpx.AsyncClient,
    mailer: RecordingMailer,
    engine: AsyncEngine,
) -> None:
    payments = simulator_client(payment_simulator_app, PausedAfterItsFirstAnswer)
    async with monolith_on(database_url, payment_simulator_app, mailer, payments) as client:
        subscriber = await sign_up_and_subscribe(client)
        racer: list[httpx.Response] = []

        async def a_racer_finds_the_attempt_abandoned() -> None:
            await asyncio.sleep(3 * PAYMENT_TIMEOUT_SECONDS + 0.05)  # older than three timeouts
            racer.append(await pay(client, subscriber.customer, subscriber.invoice_id))

        payments.meanwhile = a_racer_finds_the_attempt_abandoned
        first = await pay(client, subscriber.customer, subscriber.invoice_id)

    # Both payers are answered with the one charge; the payment is recorded, published and
    # mailed once.
    assert [r.status_code for r in (first, *racer)] == [201, 201]
    [charge_id] = {r.json()["payment"]["provider_charge_id"] for r in (first, *racer)}
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    assert [(c["id"], c["status"]) for c in charges["items"]] == [(charge_id, "succeeded")]
    receipts = [m for m in mailer.sent if m.subject.startswith("Payment received")]
    assert [m.to for m in receipts] == [subscriber.customer.email]
    async with engine.connect() as connection:
        published = await connection.scalar(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.event_type == "dev.strangler-fig.billing.payment-succeeded.v1")
        )
    assert published == 1


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
