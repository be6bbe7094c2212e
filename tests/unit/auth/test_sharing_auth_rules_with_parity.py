"""The auth parity suite judges by the rules the gateway's shadow diff applies to
``/api/users`` and ``/api/auth``: read from the same route table, so they cannot drift."""

from __future__ import annotations

from pydantic import SecretStr
from strangler_gateway.routes import AUTH_SHADOW, RouteTable, default_routes
from strangler_gateway.settings import GatewaySettings

from tests.support.auth_parity import auth_parity_rules


def test_the_parity_rules_are_the_accounts_routes_shadow_rules() -> None:
    settings = GatewaySettings(admin_token=SecretStr("test-token"))
    table = RouteTable(default_routes(settings))

    for name in ("users", "auth"):
        route = table.named(name)
        assert route is not None
        assert route.shadow.compare == AUTH_SHADOW.compare
    assert auth_parity_rules(settings).compare == AUTH_SHADOW.compare
    assert "www-authenticate" in AUTH_SHADOW.compare.headers
