"""Requests that race each other on PostgreSQL: one wins, the rest are told why not."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from legacy_monolith.models import Payment, User
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

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
