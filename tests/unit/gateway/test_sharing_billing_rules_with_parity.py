"""The parity suite judges billing by the very rules the gateway's shadow diff applies to
``/api/billing``: read from the same route table, never restated, so they cannot drift."""

from __future__ import annotations

import httpx
from pydantic import SecretStr
from strangler_gateway.app import create_app
from strangler_gateway.routes import BILLING_SHADOW, RouteTable, default_routes
from strangler_gateway.settings import GatewaySettings, RouteTuning
from strangler_gateway.store import InMemoryFlagStore

from tests.support.billing_parity import billing_parity_rules

ADMIN_TOKEN = "test-token"


def _settings(**routes: RouteTuning) -> GatewaySettings:
    return GatewaySettings(admin_token=SecretStr(ADMIN_TOKEN), routes=routes)


def test_the_parity_rules_are_the_billing_routes_shadow_rules() -> None:
    settings = _settings()
    billing = RouteTable(default_routes(settings)).named("billing")

    assert billing is not None
    assert billing_parity_rules(settings).compare == billing.shadow.compare
    assert billing.shadow.compare == BILLING_SHADOW.compare


async def test_the_running_gateway_reports_the_rules_the_parity_suite_uses() -> None:
    settings = _settings()
    gateway = create_app(settings, flag_source=InMemoryFlagStore())
    transport = httpx.ASGITransport(app=gateway.operator)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        answer = await client.get(
            "/_strangler/routes", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )

    assert answer.status_code == 200, answer.text
    billing = next(route for route in answer.json() if route["route"] == "billing")
    rules = billing_parity_rules(settings).compare
    assert billing["ignored_fields"] == list(rules.ignore)
    assert billing["unordered_fields"] == list(rules.unordered)
    assert billing["compared_headers"] == list(rules.headers)


def test_tuning_the_billing_route_changes_the_parity_rules_too() -> None:
    tuned = _settings(
        billing=RouteTuning(ignore_fields=["/items/*/plan_id"], compared_headers=["content-type"])
    )

    rules = billing_parity_rules(tuned).compare

    assert "/items/*/plan_id" in rules.ignore
    assert rules.headers == ("content-type",)
