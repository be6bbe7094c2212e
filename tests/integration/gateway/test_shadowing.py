"""Shadow: legacy serves, safe requests are mirrored to new, and the answers are compared."""

from __future__ import annotations

import asyncio
import json
import uuid

from starlette.types import ASGIApp, Receive, Scope, Send
from strangler_gateway import InMemoryFlagStore, Mode, RouteFlag

from .conftest import ADMIN_TOKEN, GatewayClient, GatewayFactory, dead_url, serving

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _diffs_once_compared(client: GatewayClient, compared: int) -> dict[str, object]:
    async def poll() -> dict[str, object]:
        while True:
            figures: dict[str, object] = (
                await client.operator.get("/_strangler/diffs/billing", headers=ADMIN)
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


def answering(total_for_new: int) -> ASGIApp:
    """An upstream answering ``{"total": ..., "nonce": <fresh every call>}``.

    The legacy side always says 10; the new side says ``total_for_new`` on ``.../wrong``.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        total = total_for_new if scope["path"].endswith("/wrong") else 10
        payload = json.dumps({"total": total, "nonce": uuid.uuid4().hex}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


async def test_a_field_legacy_changes_between_calls_is_noise_not_a_difference(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.SHADOW), who="t", reason="")

    async with (
        serving(answering(10), answering(12)) as (legacy, new),
        gateway(legacy_url=legacy, billing_url=new) as client,
    ):
        for _ in range(4):
            assert (await client.get("/api/billing/same")).json()["total"] == 10
        quiet = await _diffs_once_compared(client, 4)
        await client.get("/api/billing/wrong")
        loud = await _diffs_once_compared(client, 5)

    assert (quiet["noisy"], quiet["differing"]) == (4, 0)
    assert quiet["noisy_fields"] == ["/nonce"]
    assert loud["differing"] == 1
    assert loud["diff_rate"] == 0.2
    recent = loud["recent"]
    assert isinstance(recent, list)
    assert recent[0]["fields"] == ["/total: 10 != 12"]


async def test_ignored_fields_of_a_route_are_not_compared(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.SHADOW), who="t", reason="")
    tuning = {"billing": {"ignore_fields": ["/side", "/headers"], "noise_sample_rate": 0}}

    async with gateway(routes=tuning) as client:
        await client.get("/api/billing/invoices?page=2")
        figures = await _diffs_once_compared(client, 1)

    assert (figures["differing"], figures["noisy"]) == (0, 0)


async def test_a_route_that_allows_writes_mirrors_them_with_their_body(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.SHADOW), who="t", reason="")

    async with gateway(routes={"billing": {"mirror_writes": True}}) as client:
        response = await client.post("/api/billing/invoices", json={"amount": 5})
        figures = await _diffs_once_compared(client, 1)

    assert response.json()["side"] == "legacy"
    assert figures["mirrored"] == 1
    assert figures["noise_samples"] == 0, "a write is never sent to legacy twice"
    recent = figures["recent"]
    assert isinstance(recent, list)
    assert recent[0]["method"] == "POST"
    fields = recent[0]["fields"]
    assert '/side: "legacy" != "new"' in fields
    assert not [line for line in fields if line.startswith(("/body_sha256", "/body_bytes"))]


async def test_a_shadowed_post_is_not_mirrored(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.SHADOW), who="t", reason="")

    async with gateway() as client:
        response = await client.post("/api/billing/invoices", json={"amount": 5})
        figures = (await client.operator.get("/_strangler/diffs/billing", headers=ADMIN)).json()

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
