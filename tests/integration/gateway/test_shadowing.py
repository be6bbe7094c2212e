"""Shadow: legacy serves, safe requests are mirrored to new, and the answers are compared."""

from __future__ import annotations

import asyncio

import httpx
from strangler_gateway import InMemoryFlagStore, Mode, RouteFlag

from .conftest import ADMIN_TOKEN, GatewayFactory, dead_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _diffs_once_compared(client: httpx.AsyncClient, compared: int) -> dict[str, object]:
    async def poll() -> dict[str, object]:
        while True:
            figures: dict[str, object] = (
                await client.get("/_strangler/diffs/billing", headers=ADMIN)
            ).json()
            if figures["compared"] == compared:
                return figures
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout=5)


async def test_a_shadowed_get_is_served_by_legacy_and_its_mirror_compared(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.SHADOW), who="t", reason="")

    async with gateway() as client:
        response = await client.get("/api/billing/invoices")
        figures = await _diffs_once_compared(client, 1)

    assert response.json()["side"] == "legacy"
    assert response.headers["x-strangler-reason"] == "flag:shadow"
    assert figures["mirrored"] == 1
    assert figures["differing"] == 1
    recent = figures["recent"]
    assert isinstance(recent, list)
    assert '/side: "legacy" != "new"' in recent[0]["fields"]


async def test_a_shadowed_post_is_not_mirrored(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.SHADOW), who="t", reason="")

    async with gateway() as client:
        response = await client.post("/api/billing/invoices", json={"amount": 5})
        figures = (await client.get("/_strangler/diffs/billing", headers=ADMIN)).json()

    assert response.json()["side"] == "legacy"
    assert figures["mirrored"] == 0


async def test_a_mirror_to_a_new_side_that_is_down_never_fails_the_user(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:

    await flags.set_flag("billing", RouteFlag(mode=Mode.SHADOW), who="t", reason="")

    async with gateway(billing_url=dead_url()) as client:
        response = await client.get("/api/billing/invoices")

    assert response.status_code == 200
    assert response.json()["side"] == "legacy"
