"""A service evaluates the gateway's routing flags through OpenFeature and gets the gateway's
own answers: the real gateway on a socket, the provider reading its admin API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import Reason
from strangler_flags import GatewayFlagSource, StranglerFlagProvider

from tests.support.polling import eventually

from .conftest import ADMIN_TOKEN, GatewayFactory

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Strangler-Actor": "integration-test"}
USERS = [f"user-{n:03d}" for n in range(60)]
FOLLOW_DEADLINE_SECONDS = 10.0


@asynccontextmanager
async def openfeature_client(gateway: httpx.AsyncClient) -> AsyncIterator[OpenFeatureClient]:
    """The provider as a service sets it up, reading flags from this gateway.

    ``set_provider_and_wait`` blocks until the first flags are in; it runs in a thread here
    because the gateway that must answer it runs on this test's event loop.
    """
    source = GatewayFlagSource(str(gateway.base_url), ADMIN_TOKEN, poll_seconds=0.05)
    await asyncio.to_thread(api.set_provider_and_wait, StranglerFlagProvider(source))
    try:
        yield api.get_client()
    finally:
        await asyncio.to_thread(api.clear_providers)


async def test_a_service_and_the_gateway_send_each_user_to_the_same_side_of_a_canary(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        changed = await client.operator.put(
            "/_strangler/flags/billing",
            json={"mode": "canary", "percent": 30, "reason": "ramp"},
            headers=ADMIN,
        )
        assert changed.status_code == 200, changed.text

        async with openfeature_client(client.operator) as flags:
            pairs = []
            for user in USERS:
                answer = await client.get(
                    "/api/billing/plans", headers={"Cookie": f"strangler_uid={user}"}
                )
                details = flags.get_string_details(
                    "billing", "legacy", EvaluationContext(targeting_key=user)
                )
                pairs.append((user, answer, details))

    for user, answer, details in pairs:
        assert details.value == answer.headers["x-strangler-target"] == answer.json()["side"], user
        assert details.flag_metadata["strangler_reason"] == answer.headers["x-strangler-reason"]
        assert details.reason == Reason.SPLIT
    assert {details.value for _, _, details in pairs} == {"legacy", "new"}


async def test_a_change_at_the_gateway_reaches_the_service_without_a_restart(
    gateway: GatewayFactory,
) -> None:
    context = EvaluationContext(targeting_key="user-001")
    async with gateway() as client:
        await client.operator.put("/_strangler/flags/billing", json={"mode": "new"}, headers=ADMIN)
        async with openfeature_client(client.operator) as flags:
            before = flags.get_boolean_details("billing", False, context)

            switched = await client.operator.post(
                "/_strangler/kill-switch", json={"state": "on", "reason": "drill"}, headers=ADMIN
            )
            assert switched.status_code == 200, switched.text

            async def kill_switch_seen() -> bool:
                return flags.get_boolean_value("billing", True, context) is False

            await eventually(
                kill_switch_seen, "the provider seeing the kill switch", FOLLOW_DEADLINE_SECONDS
            )
            after = flags.get_boolean_details("billing", True, context)

    assert (before.value, before.reason) == (True, Reason.STATIC)
    assert (after.value, after.reason) == (False, Reason.DISABLED)
    assert after.flag_metadata["strangler_reason"] == "kill-switch"


async def test_a_route_the_gateway_does_not_have_is_not_found(gateway: GatewayFactory) -> None:
    async with gateway() as client, openfeature_client(client.operator) as flags:
        details = flags.get_string_details(
            "payroll", "legacy", EvaluationContext(targeting_key="user-001")
        )

    assert (details.value, details.error_code) == ("legacy", "FLAG_NOT_FOUND")
