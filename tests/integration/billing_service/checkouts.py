"""Checking out at the billing service, and looking at what a checkout left behind: its saga,
billing's records and outbox, and the charges the payment simulator holds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from billing_service.adapters.orm import outbox
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.entrypoints.app import create_app
from billing_service.settings import BillingSettings
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts.topics import BILLING

from tests.support.asgi import started
from tests.support.monolith_api import GOOD_CARD, Customer, new_key
from tests.support.polling import eventually

__all__ = [
    "FAST_SAGAS",
    "SETTLED",
    "billing_app",
    "charges_for",
    "check_out",
    "in_process_payments",
    "outbox_events",
    "settled",
]

Payments = TypeVar("Payments", bound=PaymentSimulatorClient)

BASE_URL = "http://billing"
SETTLED = frozenset({"completed", "compensated", "compensation_failed"})
SETTLES_WITHIN_SECONDS = 60.0

FAST_SAGAS: dict[str, object] = {
    "saga_poll_seconds": 0.05,
    "saga_lease_seconds": 5.0,
    "checkout_retry_seconds": 0.05,
    "checkout_payment_timeout_seconds": 2.0,
    "checkout_charge_attempts": 3,
    "checkout_compensation_attempts": 10,
}
"""Sagas polled and retried within moments, so that tests wait for outcomes, not backoffs."""


def in_process_payments(
    settings: BillingSettings,
    simulator: FastAPI,
    kind: type[Payments],
) -> Payments:
    """Billing's payment client ``kind`` (``PaymentSimulatorClient`` or a subclass of it)
    reaching the simulator app in-process."""
    return kind(
        settings.payment_provider_url,
        settings.payment_timeout_seconds,
        transport=httpx.ASGITransport(app=simulator),
    )


@asynccontextmanager
async def billing_app(
    settings: BillingSettings, simulator: FastAPI | str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Billing paying through ``simulator``: an app reached in-process, or a served URL
    (needed when a client-side timeout must fire: ``ASGITransport`` enforces none)."""
    if isinstance(simulator, str):
        payments = PaymentSimulatorClient(simulator, settings.payment_timeout_seconds)
    else:
        payments = in_process_payments(settings, simulator, PaymentSimulatorClient)
    app = create_app(settings, payments=payments)
    async with started(app, BASE_URL) as client:
        yield app, client


async def check_out(
    client: httpx.AsyncClient,
    customer: Customer,
    plan_id: str = "pro",
    card_number: str = GOOD_CARD,
    key: str | None = None,
) -> httpx.Response:
    return await client.post(
        "/api/billing/checkout",
        json={"plan_id": plan_id, "card_number": card_number},
        headers={**customer.auth, "Idempotency-Key": key or new_key()},
    )


async def settled(
    client: httpx.AsyncClient, customer: Customer, checkout_id: str
) -> dict[str, Any]:
    """The checkout once it has ended, however it ended."""
    seen: list[dict[str, Any]] = []

    async def has_ended() -> bool:
        answer = await client.get(f"/api/billing/checkout/{checkout_id}", headers=customer.auth)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        return seen[-1]["status"] in SETTLED

    await eventually(has_ended, f"checkout {checkout_id} ends", SETTLES_WITHIN_SECONDS, every=0.05)
    return seen[-1]


async def outbox_events(engine: AsyncEngine, subscription_id: str) -> list[tuple[str, Any]]:
    """The subscription's events in billing's outbox, in order: ``(short type, data)``."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(outbox.c.event_type, outbox.c.payload)
                .where(outbox.c.topic == BILLING.name)
                .order_by(outbox.c.position)
            )
        ).all()
    return [
        (row.event_type.rsplit(".", 2)[-2], data)
        for row in rows
        if (data := json.loads(row.payload)["data"])["subscription_id"] == subscription_id
    ]


async def charges_for(simulator: httpx.AsyncClient, invoice_id: str) -> list[dict[str, Any]]:
    """Every charge the simulator holds for the invoice, succeeded or declined."""
    answer = await simulator.get("/v1/charges", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return [c for c in answer.json()["items"] if c["description"] == f"Invoice {invoice_id}"]
