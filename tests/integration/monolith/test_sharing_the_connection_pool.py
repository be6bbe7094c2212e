"""The monolith's pool of PostgreSQL connections under a crowd of payments: no request holds
two connections, so the crowd cannot deadlock it, and a request that finds no connection
free is answered 503 at once instead of waiting half a minute for a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.app import build_runtime, create_app
from legacy_monolith.billing.payment_provider import HttpPaymentProvider
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings

from tests.integration.monolith.conftest import JWT_SECRET, PAYMENT_TIMEOUT_SECONDS
from tests.support.asgi import started
from tests.support.monolith_api import assert_problem, new_key, pay, sign_up_and_subscribe
from tests.support.operator import OPERATOR_TOKEN

pytestmark = pytest.mark.integration

CROWD = 24
"""More payments at once than the pool has connections (16 kept + 4 overflow)."""


def _slug(response: httpx.Response) -> str:
    slug: str = response.json()["type"].rsplit("/", 1)[-1]
    return slug


async def test_twenty_payments_of_one_invoice_under_one_key_charge_it_once(
    client: httpx.AsyncClient, payment_simulator: httpx.AsyncClient
) -> None:
    subscriber = await sign_up_and_subscribe(client)
    key = new_key()

    *payments, plans = await asyncio.gather(
        *(pay(client, subscriber.customer, subscriber.invoice_id, key=key) for _ in range(CROWD)),
        client.get("/api/billing/plans"),
    )

    assert plans.status_code == 200
    paid = [r for r in payments if r.status_code == 201]
    refused = [r for r in payments if r.status_code != 201]
    assert {r.status_code for r in refused} <= {409}
    assert {_slug(r) for r in refused} <= {"payment-in-progress"}
    assert len(paid) + len(refused) == CROWD
    assert len({r.json()["payment"]["id"] for r in paid}) == 1
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    assert [c["status"] for c in charges["items"]] == ["succeeded"]
    assert charges["items"][0]["id"] == paid[0].json()["payment"]["provider_charge_id"]


@pytest.fixture
async def one_connection_app(
    database_url: str, payment_simulator_app: FastAPI
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The monolith with a pool of exactly one connection and a short wait for it."""
    settings = MonolithSettings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        payment_provider_url="http://payment-simulator",
        payment_timeout_seconds=PAYMENT_TIMEOUT_SECONDS,
        outbox_relay_enabled=False,
        database_pool_size=1,
        database_pool_overflow=0,
        database_pool_timeout_seconds=0.2,
    )

    def with_simulator(settings: MonolithSettings) -> Runtime:
        payments = HttpPaymentProvider(
            settings.payment_provider_url,
            settings.payment_timeout_seconds,
            transport=httpx.ASGITransport(app=payment_simulator_app),
        )
        return build_runtime(settings, payments=payments, mailer=RecordingMailer())

    app = create_app(settings, runtime_factory=with_simulator)
    async with started(app, "http://monolith") as client:
        yield app, client


async def test_a_request_that_finds_no_free_connection_is_answered_503_with_retry_after(
    one_connection_app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = one_connection_app
    runtime: Runtime = app.root
    async with AsyncExitStack() as held:
        await held.enter_async_context(runtime.engine.connect())  # the pool's only connection

        busy = await client.get("/api/billing/plans")

    served = await client.get("/api/billing/plans")

    problem = assert_problem(busy, 503, "service-unavailable")
    assert busy.headers["Retry-After"] == "1"
    assert "database connection" in problem["detail"]
    assert served.status_code == 200
