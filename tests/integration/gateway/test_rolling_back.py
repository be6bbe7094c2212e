"""Automatic rollback: a new side that starts failing sends its route back to legacy."""

from __future__ import annotations

import asyncio

from strangler_gateway import InMemoryFlagStore, Mode, RouteFlag

from .conftest import GatewayFactory


async def test_a_failing_new_side_puts_its_route_back_on_legacy_and_records_why(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="ops", reason="go")

    async with gateway(rollback_min_calls=3, rollback_max_error_rate=0.5) as client:
        for _ in range(3):
            assert (await client.get("/api/billing/unstable")).status_code == 200

        async def rolled_back() -> None:
            while flags.current().flag("billing").mode is not Mode.LEGACY:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(rolled_back(), timeout=5)
        after = await client.get("/api/billing/x")

    [latest, *_] = await flags.history("billing")
    assert latest.who == "gateway:auto-rollback"
    assert latest.old is not None
    assert latest.old["mode"] == "new"
    assert "error rate 100%" in latest.reason
    assert after.headers["x-strangler-reason"] == "flag:legacy"


async def test_each_route_rolls_back_on_its_own_thresholds(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="ops", reason="go")
    await flags.set_flag("notifications", RouteFlag(mode=Mode.NEW), who="ops", reason="go")
    strict = {"rollback_min_calls": 3, "rollback_max_error_rate": 0.5}

    async with gateway(routes={"billing": strict}) as client:
        for _ in range(5):
            await client.get("/api/billing/unstable")
            await client.get("/api/notifications/unstable")

        async def rolled_back() -> None:
            while flags.current().flag("billing").mode is not Mode.LEGACY:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(rolled_back(), timeout=5)

    [latest, *_] = await flags.history("billing")
    assert "(limit 50%)" in latest.reason
    assert flags.current().flag("notifications").mode is Mode.NEW
