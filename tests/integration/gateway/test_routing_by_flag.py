"""Requests reach legacy or new by flag, sticky per user, with the three headers."""

from __future__ import annotations

import jwt
from strangler_flags import bucket_of
from strangler_gateway import InMemoryFlagStore, Mode, RouteFlag

from .conftest import ADMIN_TOKEN, GatewayFactory

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _user_in_bucket(below: int, *, inside: bool) -> str:
    return next(f"user-{n}" for n in range(10_000) if (bucket_of(f"user-{n}") < below) == inside)


async def test_a_route_on_legacy_reaches_the_monolith_with_the_three_headers(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        response = await client.get("/api/billing/invoices", params={"page": "2"})

    assert response.status_code == 200
    assert response.json()["side"] == "legacy"
    assert response.json()["path"] == "/api/billing/invoices"
    assert response.json()["query"] == "page=2"
    assert response.headers["x-strangler-route"] == "billing"
    assert response.headers["x-strangler-target"] == "legacy"
    assert response.headers["x-strangler-reason"] == "flag:legacy"


async def test_a_route_on_new_reaches_the_service_and_other_routes_stay_on_legacy(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="test", reason="")

    async with gateway() as client:
        billing = await client.get("/api/billing/invoices")
        users = await client.get("/api/users/1")

    assert billing.json()["side"] == "new"
    assert billing.headers["x-strangler-reason"] == "flag:new"
    assert users.json()["side"] == "legacy"
    assert users.headers["x-strangler-route"] == "users"


async def test_canary_keeps_each_user_on_one_side_by_cookie(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.CANARY, percent=30), who="t", reason="")
    early, late = _user_in_bucket(30, inside=True), _user_in_bucket(30, inside=False)

    async with gateway() as client:
        sides = {
            user: {
                (
                    await client.get("/api/billing/x", headers={"Cookie": f"strangler_uid={user}"})
                ).json()["side"]
                for _ in range(3)
            }
            for user in (early, late)
        }
        reason = (
            await client.get("/api/billing/x", headers={"Cookie": f"strangler_uid={early}"})
        ).headers["x-strangler-reason"]

    assert sides == {early: {"new"}, late: {"legacy"}}
    assert reason == f"flag:canary-bucket-{bucket_of(early)}"


async def test_canary_uses_the_token_subject_before_the_cookie(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.CANARY, percent=30), who="t", reason="")
    early, late = _user_in_bucket(30, inside=True), _user_in_bucket(30, inside=False)
    token = jwt.encode({"sub": early}, "signing-key-the-gateway-does-not-have!", algorithm="HS256")

    async with gateway() as client:
        response = await client.get(
            "/api/billing/x",
            headers={"Authorization": f"Bearer {token}", "Cookie": f"strangler_uid={late}"},
        )

    assert response.json()["side"] == "new"


async def test_a_first_visit_gets_a_sticky_cookie(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        first = await client.get("/api/billing/x")
        again = await client.get("/api/billing/x")

    assert "strangler_uid=" in first.headers["set-cookie"]
    assert "strangler_uid" not in again.headers.get("set-cookie", "")


async def test_shadow_serves_from_legacy(gateway: GatewayFactory, flags: InMemoryFlagStore) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.SHADOW), who="t", reason="")

    async with gateway() as client:
        response = await client.get("/api/billing/x")

    assert response.json()["side"] == "legacy"
    assert response.headers["x-strangler-reason"] == "flag:shadow"


async def test_a_capability_born_in_a_service_is_served_by_new_whatever_the_flags(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_kill_switch(True, who="test", reason="drill")

    async with gateway() as client:
        checkout = await client.post("/api/billing/checkout", json={"plan_id": "pro"})
        invoices = await client.get("/api/billing/invoices")
        listed = await client.operator.get("/_strangler/flags", headers=ADMIN)
        refused = await client.operator.put(
            "/_strangler/flags/billing-checkout", json={"mode": "legacy"}, headers=ADMIN
        )

    assert checkout.json()["side"] == "new"
    assert checkout.headers["x-strangler-route"] == "billing-checkout"
    assert checkout.headers["x-strangler-reason"] == "route:born-new"
    assert invoices.headers["x-strangler-reason"] == "kill-switch"
    assert "billing-checkout" not in {flag["route"] for flag in listed.json()["flags"]}
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("route-born-new")
