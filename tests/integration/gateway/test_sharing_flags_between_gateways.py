"""Two gateway processes on one PostgreSQL flag store: a change made through either one
reaches the other's traffic, and both tell the same audit trail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from strangler_gateway.migrate import upgrade_to_head

from tests.integration.conftest import FreshDatabase
from tests.support.gateway_process import GatewayProcess

from .conftest import ADMIN_TOKEN, GatewayClient, GatewayProcessFactory

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Strangler-Actor": "release-manager"}
PROPAGATION_DEADLINE_SECONDS = 30.0
"""Far above the 0.5 s poll on purpose: these machines are noisy, and only "it arrives" counts."""


async def _poll_until(
    client: httpx.AsyncClient, path: str, arrived: str
) -> tuple[httpx.Response, float]:
    """GET ``path`` until its ``X-Strangler-Reason`` is ``arrived`` or the deadline passes;
    the last answer and the seconds it took."""
    began = time.monotonic()
    response = await client.get(path)
    while (
        response.headers["x-strangler-reason"] != arrived
        and time.monotonic() - began < PROPAGATION_DEADLINE_SECONDS
    ):
        await asyncio.sleep(0.05)
        response = await client.get(path)
    return response, time.monotonic() - began


@pytest.fixture
async def two_gateways(
    fresh_database: FreshDatabase, gateway_process: GatewayProcessFactory
) -> tuple[GatewayProcess, GatewayProcess]:
    database_url = await fresh_database("gateway_shared", migrate=upgrade_to_head)
    return await gateway_process(database_url), await gateway_process(database_url)


@pytest.fixture
async def clients(
    two_gateways: tuple[GatewayProcess, GatewayProcess],
) -> AsyncIterator[tuple[GatewayClient, GatewayClient]]:
    first, second = two_gateways
    async with (
        GatewayClient(base_url=first.url, timeout=10) as a,
        httpx.AsyncClient(base_url=first.admin_url, timeout=10) as a.operator,
        GatewayClient(base_url=second.url, timeout=10) as b,
        httpx.AsyncClient(base_url=second.admin_url, timeout=10) as b.operator,
    ):
        yield a, b


async def test_a_flag_set_on_one_gateway_reaches_the_other(
    clients: tuple[GatewayClient, GatewayClient],
) -> None:
    a, b = clients
    before = await b.get("/api/billing/invoices")

    changed = await a.operator.put(
        "/_strangler/flags/billing",
        json={"mode": "new", "reason": "billing service passed its shadow week"},
        headers=ADMIN,
    )
    after, seconds = await _poll_until(b, "/api/billing/invoices", arrived="flag:new")
    history = await b.operator.get("/_strangler/flags/history?route=billing", headers=ADMIN)

    assert before.headers["x-strangler-target"] == "legacy"
    assert changed.status_code == 200
    assert after.headers["x-strangler-target"] == "new", (
        f"gateway B still routed billing to legacy {seconds:.1f} s after gateway A set it to new"
    )
    assert after.json()["side"] == "new"
    [entry] = history.json()
    assert (entry["who"], entry["reason"]) == (
        "release-manager",
        "billing service passed its shadow week",
    )
    assert entry["old"] is None
    assert entry["new"]["mode"] == "new"


async def test_the_kill_switch_set_on_one_gateway_reaches_the_other(
    clients: tuple[GatewayClient, GatewayClient],
) -> None:
    a, b = clients
    await a.operator.put("/_strangler/flags/billing", json={"mode": "new"}, headers=ADMIN)
    on_new = await a.get("/api/billing/invoices")

    switched = await b.operator.post(
        "/_strangler/kill-switch", json={"state": "on", "reason": "incident 42"}, headers=ADMIN
    )
    after, seconds = await _poll_until(a, "/api/billing/invoices", arrived="kill-switch")
    history = await a.operator.get("/_strangler/flags/history?route=kill-switch", headers=ADMIN)

    assert on_new.headers["x-strangler-target"] == "new"
    assert switched.status_code == 200
    assert after.headers["x-strangler-reason"] == "kill-switch", (
        f"gateway A still routed by flag {seconds:.1f} s after gateway B turned the kill switch on"
    )
    assert after.headers["x-strangler-target"] == "legacy"
    assert after.json()["side"] == "legacy"
    [entry] = history.json()
    assert (entry["who"], entry["reason"], entry["new"]) == (
        "release-manager",
        "incident 42",
        {"on": True},
    )
