"""``X-Strangler-Target`` chooses a side only for callers holding the targeting token."""

from __future__ import annotations

import httpx
from strangler_gateway import InMemoryFlagStore, Mode, RouteFlag

from .conftest import GatewayFactory

TARGETING_TOKEN = "targeting-token-for-tests"
TO_NEW = {"X-Strangler-Target": "new"}


def _headers_seen_upstream(response: httpx.Response) -> set[str]:
    return {name for name, _ in response.json()["headers"]}


async def test_a_client_cannot_choose_its_side_when_header_targeting_is_off(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        response = await client.get(
            "/api/billing/x", headers={**TO_NEW, "X-Strangler-Targeting-Token": TARGETING_TOKEN}
        )

    assert response.json()["side"] == "legacy"
    assert response.headers["x-strangler-reason"] == "flag:legacy"
    assert not {"x-strangler-target", "x-strangler-targeting-token"} & _headers_seen_upstream(
        response
    )


async def test_a_client_without_the_targeting_token_cannot_leave_a_rolled_back_route(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    async with gateway(targeting_token=TARGETING_TOKEN) as client:
        bare = await client.get("/api/billing/x", headers=TO_NEW)
        wrong = await client.get(
            "/api/billing/x", headers={**TO_NEW, "X-Strangler-Targeting-Token": "guess"}
        )

    for response in (bare, wrong):
        assert response.json()["side"] == "legacy"
        assert response.headers["x-strangler-reason"] == "flag:legacy"
        assert "x-strangler-target" not in _headers_seen_upstream(response)


async def test_a_client_cannot_escape_the_canary_to_legacy_without_the_token(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="t", reason="")

    async with gateway(targeting_token=TARGETING_TOKEN) as client:
        response = await client.get("/api/billing/x", headers={"X-Strangler-Target": "legacy"})

    assert response.json()["side"] == "new"
    assert response.headers["x-strangler-reason"] == "flag:new"


async def test_an_operator_with_the_targeting_token_forces_a_side_and_the_kill_switch_beats_it(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    operator = {**TO_NEW, "X-Strangler-Targeting-Token": TARGETING_TOKEN}

    async with gateway(targeting_token=TARGETING_TOKEN) as client:
        forced = await client.get("/api/billing/x", headers=operator)
        await flags.set_kill_switch(True, who="t", reason="incident")
        killed = await client.get("/api/billing/x", headers=operator)

    assert forced.json()["side"] == "new"
    assert forced.headers["x-strangler-reason"] == "targeting:header"
    assert "x-strangler-targeting-token" not in _headers_seen_upstream(forced)
    assert killed.json()["side"] == "legacy"
    assert killed.headers["x-strangler-reason"] == "kill-switch"
