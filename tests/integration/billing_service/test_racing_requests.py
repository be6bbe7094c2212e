"""Requests that race each other on PostgreSQL: one wins, the rest are told why not."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from billing_service.adapters.orm import payments, subscriptions
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.billing_service.conftest import known_customer
from tests.support.monolith_api import assert_problem, new_key, pay, subscribe

pytestmark = pytest.mark.integration

RACERS = 5


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

    [winner] = [r for r in responses if r.status_code == 201]
    losers = [r for r in responses if r is not winner]
    assert {r.status_code for r in losers} == {409}
    assert {r.json()["type"].rsplit("/", 1)[-1] for r in losers} <= {
        "payment-in-progress",
        "invoice-already-paid",
    }
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    assert [(c["id"], c["status"]) for c in charges["items"]] == [
        (winner.json()["payment"]["provider_charge_id"], "succeeded")
    ]
    async with engine.connect() as connection:
        recorded = await connection.scalar(
            select(func.count()).select_from(payments).where(payments.c.invoice_id == invoice_id)
        )
    assert recorded == 1


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
