"""Health probes, as pact interactions each pair's consumer test declares beside its others
(a pair has one pact file, written by one test module):

- the ``strangler`` command's readiness probe (``strangler up`` waits for it, ``strangler
  status`` shows it, the supervisor restarts a component that stops answering it):
  ``GET /health/ready``, healthy on a 200 (the runner's ``is_healthy``);
- the gateway's breaker probe, which closes an open circuit to an upstream once
  ``GET <breaker_probe_path>`` (``/health/live``) answers 200, sent by the gateway's own
  upstream client as the pool sends it: no header of the caller's.
"""

from __future__ import annotations

from pact import Pact
from strangler_gateway.settings import GatewaySettings
from strangler_gateway.upstream_client import Upstream
from strangler_runner.health import is_healthy, probe_client

__all__ = [
    "READY_PATH",
    "declare_liveness",
    "declare_readiness",
    "gateway_finds_it_live",
    "runner_finds_it_ready",
]

READY_PATH = "/health/ready"
LIVE_PATH = GatewaySettings.model_fields["breaker_probe_path"].default


def declare_readiness(pact: Pact) -> None:
    (
        pact.upon_receiving("a readiness probe, as `strangler up` and `strangler status` send it")
        .with_request("GET", READY_PATH)
        .will_respond_with(200)
    )


def declare_liveness(pact: Pact) -> None:
    (
        pact.upon_receiving("a liveness probe, as the gateway's breaker sends it")
        .with_request("GET", LIVE_PATH)
        .will_respond_with(200)
    )


async def runner_finds_it_ready(url: str) -> None:
    async with probe_client() as client:
        assert await is_healthy(f"{url}{READY_PATH}", client)


async def gateway_finds_it_live(url: str) -> None:
    upstream = Upstream(
        url,
        limit=1,
        connect_timeout=5.0,
        read_timeout=5.0,
        wait_timeout=5.0,
        keepalive_seconds=1.0,
    )
    try:
        answer = await upstream.request("GET", LIVE_PATH, [])
        async with answer:
            await answer.read()
        assert answer.status == 200
    finally:
        await upstream.close()
