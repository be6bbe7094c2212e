"""The gateway's background loop (the flag poller) runs under the kit's supervisor: when it
dies the gateway keeps routing on the last known flags, says so on ``/health/ready`` and in
``/metrics``, and starts it again."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from strangler_gateway import InMemoryFlagStore

from tests.support.polling import eventually

from .conftest import GatewayFactory


class FlagsWhoseDatabaseIsDown(InMemoryFlagStore):
    """Following changes fails until the database is ``back``."""

    def __init__(self) -> None:
        super().__init__()
        self.back = asyncio.Event()

    async def follow(self, stop: asyncio.Event) -> None:
        if not self.back.is_set():
            raise ConnectionError("the flag database does not answer")
        await stop.wait()


@pytest.fixture
def flags() -> FlagsWhoseDatabaseIsDown:
    return FlagsWhoseDatabaseIsDown()


async def _ready(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/health/ready")


async def test_a_flag_poller_that_dies_is_named_on_readiness_and_started_again(
    gateway: GatewayFactory, flags: FlagsWhoseDatabaseIsDown
) -> None:
    async with gateway() as client:
        seen: list[httpx.Response] = []

        async def not_ready() -> bool:
            seen.append(await _ready(client))
            return seen[-1].status_code == 503

        await eventually(not_ready, "readiness reports the dead poller", within=10.0)
        down = seen[-1]
        served_meanwhile = await client.get("/api/billing/plans")
        metrics = (await client.operator.get("/metrics")).text

        flags.back.set()
        answers: list[httpx.Response] = []

        async def ready_again() -> bool:
            answers.append(await _ready(client.operator))
            return answers[-1].status_code == 200

        await eventually(ready_again, "the flag poller runs again", within=15.0, every=0.1)

    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["type"].endswith("/not-ready")
    assert "flag-poller" in down.json()["detail"]
    assert "ConnectionError" in down.json()["loops"]["flag-poller"]
    assert served_meanwhile.json()["side"] == "legacy"
    restarts = re.search(
        r'^strangler_loop_restarts_total\{component="gateway",loop="flag-poller"\} (\S+)$',
        metrics,
        re.MULTILINE,
    )
    assert restarts is not None
    assert float(restarts.group(1)) >= 1
    assert answers[-1].json()["loops"] == {"flag-poller": "running"}
