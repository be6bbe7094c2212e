"""The route table: one line per route, longest prefix wins, no partial-segment matches."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from strangler_gateway.routes import Route, RouteTable, default_routes
from strangler_gateway.settings import GatewaySettings

SETTINGS = GatewaySettings(admin_token=SecretStr("test-token"))


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/auth/login", "auth"),
        ("/api/users", "users"),
        ("/api/users/42", "users"),
        ("/api/billing/invoices/7", "billing"),
        ("/api/notifications/", "notifications"),
        ("/api/notifications/preferences", "notification-preferences"),
        ("/api/billing/checkout/c-1", "billing-checkout"),
        ("/api/notifications/n-1", "notifications"),
    ],
)
def test_every_public_prefix_has_its_route(path: str, name: str) -> None:
    route = RouteTable(default_routes(SETTINGS)).match(path)

    assert route is not None
    assert route.name == name


@pytest.mark.parametrize("path", ["/", "/api", "/api/billingx", "/other/api/billing"])
def test_paths_outside_every_prefix_have_no_route(path: str) -> None:
    assert RouteTable(default_routes(SETTINGS)).match(path) is None


def test_the_longest_prefix_wins_when_a_service_takes_over_part_of_a_prefix() -> None:
    routes = [
        *default_routes(SETTINGS),
        Route("billing-payments", "/api/billing/payments", "http://l", "http://n", "payments"),
    ]
    table = RouteTable(routes)

    payments = table.match("/api/billing/payments/9")
    invoices = table.match("/api/billing/invoices/9")

    assert payments is not None
    assert payments.name == "billing-payments"
    assert invoices is not None
    assert invoices.name == "billing"


def test_the_default_table_sends_legacy_to_the_monolith_and_new_to_each_service() -> None:
    by_name = {route.name: route for route in default_routes(SETTINGS)}

    assert {r.legacy_upstream for r in by_name.values()} == {"http://127.0.0.1:8001", None}
    assert [r.name for r in by_name.values() if r.born_new] == ["billing-checkout"]
    assert by_name["auth"].new_upstream == "http://127.0.0.1:8002"
    assert by_name["billing"].new_upstream == "http://127.0.0.1:8003"
    assert by_name["notifications"].new_upstream == "http://127.0.0.1:8004"


def test_a_route_is_tuned_by_gateway_routes_without_touching_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_ADMIN_TOKEN", "test-token")
    monkeypatch.setenv(
        "GATEWAY_ROUTES",
        '{"billing": {"ignore_fields": ["/items/*/id"], "mirror_writes": true,'
        ' "rollback_max_error_rate": 0.05, "rollback_min_calls": 5}}',
    )

    table = RouteTable(default_routes(GatewaySettings()))
    billing, users = table.named("billing"), table.named("users")

    assert billing is not None
    assert users is not None
    assert "/items/*/id" in billing.shadow.compare.ignore
    assert "**/created_at" in billing.shadow.compare.ignore
    assert billing.shadow.mirror_writes
    assert (billing.rollback.max_error_rate, billing.rollback.min_calls) == (0.05, 5)
    assert not users.shadow.mirror_writes
    assert (users.rollback.max_error_rate, users.rollback.min_calls) == (0.2, 20)


def test_tuning_a_route_that_does_not_exist_is_refused() -> None:
    settings = GatewaySettings(
        admin_token=SecretStr("test-token"), routes={"invoices": {"mirror_writes": True}}
    )

    with pytest.raises(ValueError, match="invoices"):
        default_routes(settings)
