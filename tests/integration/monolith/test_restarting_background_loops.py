"""A background loop of the real monolith that dies is started again, and says so meanwhile.

The billing ACL's consumer cannot start while the broker is away: it dies, the supervisor logs
it, readiness names it and the restarts are counted; once a broker answers on that address,
the next restart runs, and the process is ready again — nobody restarted the process.
"""

from __future__ import annotations

import asyncio
import socket

from embedded_broker import EmbeddedBroker
from legacy_monolith.app import create_app
from legacy_monolith.settings import MonolithSettings
from prometheus_client import REGISTRY

from tests.integration.conftest import create_every_topic
from tests.support.asgi import started
from tests.support.operator import OPERATOR_HEADERS, OPERATOR_TOKEN
from tests.support.polling import eventually

JWT_SECRET = "integration-test-secret-with-32-bytes!"
LOOP = "billing-sync"
RESTART_WITHIN_SECONDS = 60.0


def _restarts() -> float:
    labels = {"component": "legacy-monolith", "loop": LOOP}
    return REGISTRY.get_sample_value("strangler_loop_restarts_total", labels) or 0.0


def _port_nobody_listens_on() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_a_consumer_loop_that_dies_is_named_on_readiness_and_restarted_until_it_runs(
    database_url: str,
) -> None:
    port = _port_nobody_listens_on()
    settings = MonolithSettings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        outbox_relay_enabled=False,
        billing_sync_enabled=True,
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
    )
    restarts_before = _restarts()

    async with started(create_app(settings), "http://monolith") as client:

        async def named_as_restarting() -> bool:
            ready = await client.get("/health/ready")
            return ready.status_code == 503 and "restarting" in ready.json()["loops"][LOOP]

        await eventually(named_as_restarting, f"/health/ready names {LOOP}", within=30)
        down = (await client.get("/health/ready")).json()
        assert down["type"].endswith("/not-ready")
        assert LOOP in down["detail"]
        assert _restarts() > restarts_before

        broker = EmbeddedBroker(port=port, after_start=create_every_topic)
        await asyncio.to_thread(broker.start)
        try:

            async def syncing() -> bool:
                status = await client.get("/internal/billing/sync", headers=OPERATOR_HEADERS)
                return status.status_code == 200 and status.json()["running"] is True

            await eventually(syncing, f"{LOOP} running again", within=RESTART_WITHIN_SECONDS)
            ready = await client.get("/health/ready")
        finally:
            await asyncio.to_thread(broker.stop)

    assert ready.status_code == 200, ready.text
    assert ready.json()["loops"] == {LOOP: "running"}


async def test_without_a_broker_the_api_keeps_serving_while_the_loop_is_down(
    database_url: str,
) -> None:
    settings = MonolithSettings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        outbox_relay_enabled=False,
        billing_sync_enabled=True,
        kafka_bootstrap_servers=f"127.0.0.1:{_port_nobody_listens_on()}",
    )

    async with started(create_app(settings), "http://monolith") as client:
        await eventually(lambda: _restarts() > 0, f"{LOOP} restarted at least once", within=30)
        plans = await client.get("/api/billing/plans")
        live = await client.get("/health/live")

    assert plans.status_code == 200
    assert live.status_code == 200
