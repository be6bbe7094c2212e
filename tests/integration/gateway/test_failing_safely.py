"""Bad input and failing upstreams end in problem documents naming the route, or in fallback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from strangler_gateway import InMemoryFlagStore, Mode, RouteFlag

from .conftest import GatewayFactory, dead_url

PROBLEM = "application/problem+json"


def _assert_problem(response: httpx.Response, status: int, route: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    document = response.json()
    assert document["status"] == status
    assert document["route"] == route
    assert document["type"].startswith("https://strangler-fig.dev/problems/")
    assert "Traceback" not in response.text
    assert "127.0.0.1" not in response.text
    assert response.headers["x-strangler-route"] == route


async def test_an_idempotent_request_the_new_side_fails_with_5xx_falls_back_to_legacy(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="t", reason="")

    async with gateway() as client:
        response = await client.get("/api/billing/unstable")

    assert response.status_code == 200
    assert response.json()["side"] == "legacy"
    assert response.headers["x-strangler-target"] == "legacy"
    assert response.headers["x-strangler-reason"] == "fallback:upstream-5xx"


async def test_a_put_with_a_body_is_replayed_on_legacy_when_it_falls_back(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="t", reason="")

    async with gateway() as client:
        response = await client.put("/api/billing/unstable", content=b"x" * 100_000)

    assert response.json()["side"] == "legacy"
    assert response.json()["body_bytes"] == 100_000


async def test_a_post_the_new_side_fails_is_not_retried(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="t", reason="")

    async with gateway() as client:
        response = await client.post("/api/billing/unstable", json={"amount": 1})

    assert response.status_code == 503
    assert response.json()["side"] == "new"
    assert response.headers["x-strangler-target"] == "new"
    assert response.headers["x-strangler-reason"] == "flag:new"


async def test_a_new_side_that_is_down_falls_back_for_a_get(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="t", reason="")

    async with gateway(billing_url=dead_url()) as client:
        response = await client.get("/api/billing/x")

    assert response.json()["side"] == "legacy"
    assert response.headers["x-strangler-reason"] == "fallback:upstream-error"


async def test_an_unknown_route_is_a_404_problem(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        response = await client.get("/nowhere")

    _assert_problem(response, 404, "-")


async def test_a_declared_body_over_the_limit_is_a_413_problem(gateway: GatewayFactory) -> None:
    async with gateway(max_body_bytes=1024) as client:
        response = await client.post("/api/billing/x", content=b"x" * 2048)

    _assert_problem(response, 413, "billing")


async def test_a_chunked_body_over_the_limit_is_a_413_problem(gateway: GatewayFactory) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 1024

    async with gateway(max_body_bytes=2048) as client:
        response = await client.post("/api/billing/x", content=body())

    _assert_problem(response, 413, "billing")


async def test_an_upstream_that_is_down_is_a_502_problem(gateway: GatewayFactory) -> None:
    async with gateway(legacy_url=dead_url()) as client:
        response = await client.get("/api/billing/x")

    _assert_problem(response, 502, "billing")


async def test_a_slow_upstream_is_a_504_problem(gateway: GatewayFactory) -> None:
    async with gateway(read_timeout_seconds=0.3) as client:
        response = await client.get("/api/billing/slow")

    _assert_problem(response, 504, "billing")


async def test_a_post_the_new_side_never_answers_is_a_502_problem_without_fallback(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="t", reason="")

    async with gateway(billing_url=dead_url()) as client:
        response = await client.post("/api/billing/x", json={})

    _assert_problem(response, 502, "billing")
    assert response.headers["x-strangler-target"] == "new"


async def test_requests_and_fallbacks_are_counted_per_route_and_side(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("notifications", RouteFlag(mode=Mode.NEW), who="t", reason="")

    async with gateway() as client:
        await client.get("/api/notifications/unstable")
        metrics = (await client.operator.get("/metrics")).text

    assert 'strangler_gateway_requests_total{route="notifications",target="legacy"}' in metrics
    assert (
        'strangler_gateway_fallbacks_total{cause="upstream-5xx",route="notifications"}' in metrics
    )


async def test_an_open_circuit_sends_gets_to_legacy_at_once_and_refuses_posts(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="t", reason="")

    async with gateway(billing_url=dead_url(), breaker_threshold=2) as client:
        reasons = [
            (await client.get("/api/billing/x")).headers["x-strangler-reason"] for _ in range(3)
        ]
        post = await client.post("/api/billing/x", json={})

    assert reasons == [
        "fallback:upstream-error",
        "fallback:upstream-error",
        "fallback:circuit-open",
    ]
    _assert_problem(post, 503, "billing")
    assert post.json()["type"].endswith("/circuit-open")


async def test_invalid_percent_encoding_and_huge_headers_do_not_take_the_gateway_down(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        odd_path = await client.get("/api/billing/%zz%")
        huge = await client.get("/api/billing/x", headers={"X-Huge": "a" * 200_000})
        after = await client.get("/api/billing/x")

    assert odd_path.status_code == 200
    assert odd_path.json()["path"] == "/api/billing/%zz%"
    _assert_problem(huge, 431, "billing")
    assert after.status_code == 200
