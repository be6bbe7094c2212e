"""Payments of one invoice racing each other, on either side of the seam (the monolith,
billing): what every answer must agree on, and one race a busy machine runs, made to happen.

``PausesAfterItsFirstCharge``, mixed into a side's real provider client, stops the first
charge's caller between the provider's answer and recording it; ``paid_while_paused`` sends
a racer meanwhile, late enough to find the attempt older than three provider timeouts, so
it takes the attempt over under the same provider key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.monolith_api import Customer, pay

__all__ = [
    "PausesAfterItsFirstCharge",
    "assert_charged_once",
    "paid_while_paused",
    "payments_published",
]

PAYMENT_SUCCEEDED = "dev.strangler-fig.billing.payment-succeeded.v1"

ABANDONED_AFTER_TIMEOUTS = 3


class PausesAfterItsFirstCharge:
    """Put before a provider client in the bases: its first charge's caller waits for
    ``meanwhile`` once the provider answered."""

    meanwhile: Callable[[], Awaitable[None]] | None = None

    async def charge(self, *args: Any, **kwargs: Any) -> Any:
        answer = await super().charge(*args, **kwargs)  # type: ignore[misc]
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            await meanwhile()
        return answer


async def paid_while_paused(
    client: httpx.AsyncClient,
    payments: PausesAfterItsFirstCharge,
    provider_timeout_seconds: float,
    customer: Customer,
    invoice_id: str,
) -> tuple[httpx.Response, httpx.Response]:
    """The first payer's answer and the racer's, each under a key of its own."""
    racer: list[httpx.Response] = []

    async def a_racer_finds_the_attempt_abandoned() -> None:
        await asyncio.sleep(ABANDONED_AFTER_TIMEOUTS * provider_timeout_seconds + 0.05)
        racer.append(await pay(client, customer, invoice_id))

    payments.meanwhile = a_racer_finds_the_attempt_abandoned
    first = await pay(client, customer, invoice_id)
    [second] = racer
    return first, second


async def assert_charged_once(
    payment_simulator: httpx.AsyncClient, paid: list[httpx.Response]
) -> None:
    """Every payer answered 201 was answered with the same charge, the only one made."""
    assert paid, "nobody was answered 201"
    [charge_id] = {r.json()["payment"]["provider_charge_id"] for r in paid}
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    assert [(c["id"], c["status"]) for c in charges["items"]] == [(charge_id, "succeeded")]


async def payments_published(engine: AsyncEngine, outbox: Table) -> int:
    """How many PaymentSucceeded a side's ``outbox`` holds."""
    async with engine.connect() as connection:
        published = await connection.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.event_type == PAYMENT_SUCCEEDED)
        )
    return int(published or 0)
