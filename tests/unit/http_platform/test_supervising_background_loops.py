"""A background loop that dies is restarted, and readiness and metrics say so meanwhile."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI
from http_platform.health import health_router
from http_platform.loops import LoopSupervisor
from http_platform.metrics import mount_metrics
from prometheus_client import REGISTRY

WAIT_SECONDS = 10.0


class FailingOnce:
    """A loop whose first run raises; later runs wait for the stop event."""

    def __init__(self) -> None:
        self.runs = 0
        self.running_again = asyncio.Event()

    async def __call__(self, stop: asyncio.Event) -> None:
        self.runs += 1
        if self.runs == 1:
            raise RuntimeError("the broker went away")
        self.running_again.set()
        await stop.wait()


async def forever(stop: asyncio.Event) -> None:
    await stop.wait()


def _app(loops: LoopSupervisor) -> FastAPI:
    app = FastAPI()
    app.include_router(health_router(loops.component, loops=loops))
    mount_metrics(app)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


def _figure(name: str, component: str, loop: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"component": component, "loop": loop})


async def _until(condition: asyncio.Event) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        await condition.wait()


async def test_a_loop_that_raises_makes_the_process_not_ready_naming_it_and_why() -> None:
    component = f"test-{uuid.uuid4().hex[:8]}"
    loops = LoopSupervisor(component, first_backoff=60.0)
    relay = FailingOnce()

    async with loops.running({"outbox-relay": relay, "sagas": forever}), _client(_app(loops)) as c:
        async with asyncio.timeout(WAIT_SECONDS):
            while not loops.down():
                await asyncio.sleep(0.01)
        ready = await c.get("/health/ready")

    assert ready.status_code == 503
    document = ready.json()
    assert document["type"].endswith("/not-ready")
    assert document["loops"]["sagas"] == "running"
    assert "RuntimeError: the broker went away" in document["loops"]["outbox-relay"]
    assert "outbox-relay" in document["detail"]
    assert _figure("strangler_loop_restarts_total", component, "outbox-relay") == 1
    assert _figure("strangler_loop_running", component, "outbox-relay") == 0


async def test_a_loop_that_raises_is_started_again_and_the_process_is_ready_again() -> None:
    component = f"test-{uuid.uuid4().hex[:8]}"
    loops = LoopSupervisor(component, first_backoff=0.01)
    relay = FailingOnce()

    async with loops.running({"outbox-relay": relay}), _client(_app(loops)) as client:
        await _until(relay.running_again)
        ready = await client.get("/health/ready")
        metrics = (await client.get("/metrics")).text

    assert relay.runs == 2
    assert ready.status_code == 200, ready.text
    assert ready.json()["loops"] == {"outbox-relay": "running"}
    assert _figure("strangler_loop_restarts_total", component, "outbox-relay") == 1
    assert f'strangler_loop_running{{component="{component}",loop="outbox-relay"}} 1.0' in metrics


async def test_a_loop_that_returns_before_it_is_stopped_counts_as_stopped_and_restarts() -> None:
    component = f"test-{uuid.uuid4().hex[:8]}"
    loops = LoopSupervisor(component, first_backoff=60.0)
    returned = asyncio.Event()

    async def returns_early(stop: asyncio.Event) -> None:
        returned.set()

    async with loops.running({"consumer": returns_early}):
        await _until(returned)
        async with asyncio.timeout(WAIT_SECONDS):
            while not loops.down():
                await asyncio.sleep(0.01)
        down = loops.down()

    assert "returned before it was asked to stop" in down["consumer"]


async def test_stopping_ends_every_loop_and_its_backoff_at_once() -> None:
    loops = LoopSupervisor(f"test-{uuid.uuid4().hex[:8]}", first_backoff=3600.0)
    relay = FailingOnce()

    async with asyncio.timeout(WAIT_SECONDS):
        async with loops.running({"outbox-relay": relay, "sagas": forever}):
            while not loops.down():
                await asyncio.sleep(0.01)

    assert {state.status for state in loops.states().values()} == {"stopped"}
