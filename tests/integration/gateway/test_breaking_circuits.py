"""The circuit breaker guards against an upstream that is down, not one that said no."""

from __future__ import annotations

import urllib.parse

import httpx
from strangler_gateway import InMemoryFlagStore, Mode, RouteFlag

from tests.support.polling import eventually

from .conftest import GatewayFactory, dead_url, echo_upstream, serving

RECOVERY_DEADLINE_SECONDS = 10.0


async def test_five_problem_answers_from_legacy_do_not_cut_anyone_off(
    gateway: GatewayFactory,
) -> None:
    async with gateway(breaker_threshold=5) as client:
        chosen = [await client.get("/api/billing/problem-500") for _ in range(6)]
        bare = [await client.get("/api/billing/bare-502") for _ in range(6)]
        others = [await client.get(path) for path in ("/api/billing/x", "/api/users/me")]

    assert [answer.status_code for answer in chosen] == [500] * 6
    assert [answer.status_code for answer in bare] == [502] * 6
    assert all("problem" not in answer.headers.get("content-type", "") for answer in bare)
    assert [answer.status_code for answer in others] == [200, 200]
    assert {answer.json()["side"] for answer in others} == {"legacy"}


async def test_a_problem_the_new_side_chose_to_answer_does_not_open_its_circuit(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="t", reason="")

    async with gateway(breaker_threshold=2, rollback_min_calls=100) as client:
        timeouts = [await client.post("/api/billing/problem-504", json={}) for _ in range(4)]
        after = await client.get("/api/billing/x")

    assert [answer.status_code for answer in timeouts] == [504] * 4
    assert after.json()["side"] == "new"
    assert after.headers["x-strangler-reason"] == "flag:new"


async def test_an_open_circuit_closes_by_itself_once_new_answers_its_health_check(
    gateway: GatewayFactory, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.NEW), who="t", reason="")
    new_url = dead_url()
    settings = {
        "billing_url": new_url,
        "breaker_threshold": 2,
        # No trial call on traffic for ten minutes: only the background probe can close it.
        "breaker_cooldown_seconds": 600,
        "breaker_probe_interval_seconds": 0.1,
        "rollback_min_calls": 100,
    }

    async with gateway(**settings) as client:
        reasons = [(await client.get("/api/billing/x")).headers["x-strangler-reason"]]
        reasons += [(await client.get("/api/billing/x")).headers["x-strangler-reason"]]
        reasons += [(await client.get("/api/billing/x")).headers["x-strangler-reason"]]
        port = urllib.parse.urlsplit(new_url).port or 0
        async with serving(echo_upstream("new"), port=port):
            back = await _first_answer_from_new(client)

    assert reasons == ["fallback:upstream-error"] * 2 + ["fallback:circuit-open"]
    assert back.json()["side"] == "new"
    assert back.headers["x-strangler-reason"] == "flag:new"


async def _first_answer_from_new(client: httpx.AsyncClient) -> httpx.Response:
    """GET until new answers again: that answer."""
    answers: list[httpx.Response] = []

    async def new_answers() -> bool:
        answers.append(await client.get("/api/billing/x"))
        return answers[-1].headers["x-strangler-reason"] == "flag:new"

    await eventually(new_answers, "new answers again", RECOVERY_DEADLINE_SECONDS, every=0.05)
    return answers[-1]
