"""A burst of requests does not open a connection each to the upstream: the gateway holds at
most ``GATEWAY_UPSTREAM_CONNECTIONS`` to each one, and the rest wait their turn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from starlette.types import Receive, Scope, Send

from .conftest import GatewayFactory, serving

LIMIT = 4
BURST = 3 * LIMIT
GATE_SECONDS = 10.0


class CountingUpstream:
    """Answers 200 once ``LIMIT`` requests are in progress at once (or after ``GATE_SECONDS``),
    counting the most it ever saw at once and the client ports they came from."""

    def __init__(self) -> None:
        self.in_progress = 0
        self.most_at_once = 0
        self.client_ports: set[int] = set()
        self._full = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.client_ports.add(scope["client"][1])
        self.in_progress += 1
        self.most_at_once = max(self.most_at_once, self.in_progress)
        if self.in_progress >= LIMIT:
            self._full.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._full.wait(), GATE_SECONDS)
        self.in_progress -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def counting() -> CountingUpstream:
    return CountingUpstream()


@pytest.fixture
async def upstreams(counting: CountingUpstream) -> AsyncIterator[tuple[str, str]]:
    """The counting upstream on both sides."""
    async with serving(counting) as (url,):
        yield url, url


async def test_a_burst_shares_a_bounded_set_of_upstream_connections(
    gateway: GatewayFactory, counting: CountingUpstream
) -> None:
    async with gateway(upstream_connections=LIMIT, read_timeout_seconds=30.0) as client:
        answers = await asyncio.gather(*(client.get("/api/users/1") for _ in range(BURST)))

    assert [answer.status_code for answer in answers] == [200] * BURST
    assert counting.most_at_once == LIMIT
    assert len(counting.client_ports) <= LIMIT
