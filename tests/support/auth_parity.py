"""What auth parity is judged by, declared once: the gateway's shadow rules for the ``users``
and ``auth`` routes (read from its route table, never restated), and the differences that
are meant."""

from __future__ import annotations

from pydantic import SecretStr
from strangler_gateway.comparison import CompareRules
from strangler_gateway.routes import RouteTable, default_routes
from strangler_gateway.settings import GatewaySettings

from tests.support.parity import Expected, ParityException, ParityRules

__all__ = ["EXCEPTIONS", "auth_parity_rules", "auth_route_rules"]

_LOGIN = ParityException(
    "auth's login answer adds a refresh token (refresh_token, refresh_expires_in) and its "
    "access tokens live 15 minutes (expires_in 900), the monolith's an hour",
    legacy=Expected(200),
    new=Expected(200),
)
_ONLY_AUTH = "the monolith has no refresh or logout; the route is one auth added"

# Differences that are meant. Each is checked as exactly that difference, never ignored.
EXCEPTIONS: dict[str, ParityException] = {
    "log-in-ada": _LOGIN,
    "log-in-with-another-case": _LOGIN,
    "log-in-bob": _LOGIN,
    "log-in-ada-with-the-new-password": _LOGIN,
    "refresh-with-a-token-nobody-issued": ParityException(
        _ONLY_AUTH, legacy=Expected(404, "not-found"), new=Expected(401, "invalid-refresh-token")
    ),
    "log-out-with-a-token-nobody-issued": ParityException(
        _ONLY_AUTH, legacy=Expected(404, "not-found"), new=Expected(401, "invalid-refresh-token")
    ),
}


def auth_route_rules(settings: GatewaySettings | None = None) -> CompareRules:
    """The comparison rules the gateway's shadow diff applies to ``/api/users`` (the same
    as ``/api/auth``'s)."""
    table = RouteTable(default_routes(settings or GatewaySettings(admin_token=SecretStr("x"))))
    users, auth = table.named("users"), table.named("auth")
    if users is None or auth is None:
        raise LookupError("the gateway's route table has no 'users' or 'auth' route")
    if users.shadow.compare != auth.shadow.compare:
        raise LookupError("the gateway compares /api/users and /api/auth differently")
    return users.shadow.compare


def auth_parity_rules(settings: GatewaySettings | None = None) -> ParityRules:
    return ParityRules(compare=auth_route_rules(settings), exceptions=EXCEPTIONS)
