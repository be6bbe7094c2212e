"""The route table: which public path prefix belongs to which flag and which two upstreams.

One line per route. A service that takes over only part of a prefix gets a longer prefix of
its own; the longest matching prefix wins.

Each route also carries how it is shadowed (what the diff ignores, whether writes are
mirrored) and when it rolls back by itself. Both have defaults here and can be tuned per
route without code through ``GATEWAY_ROUTES`` (see ``RouteTuning`` in settings).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from strangler_gateway.comparison import CompareRules
from strangler_gateway.rollback import RollbackPolicy
from strangler_gateway.settings import GatewaySettings, RouteTuning
from strangler_gateway.shadow import DEFAULT_IGNORED_FIELDS, ShadowRules

__all__ = ["AUTH_SHADOW", "BILLING_SHADOW", "Route", "RouteTable", "default_routes"]

T = TypeVar("T")

# Billing answers carry meaning in two headers besides the body: a replayed payment or refund
# (``Idempotent-Replayed``) and how to authenticate (``WWW-Authenticate``). Nothing else is
# ignored beyond the defaults: in shadow, billing serves records synced from the monolith's
# events, with the monolith's ids and instants. The parity suite judges by these same rules.
BILLING_SHADOW = ShadowRules(
    compare=CompareRules(
        DEFAULT_IGNORED_FIELDS,
        headers=("content-type", "idempotent-replayed", "www-authenticate"),
    )
)

# Accounts answers carry meaning in two headers besides the body: how to authenticate
# (``WWW-Authenticate``) and where a new account is (``Location``). Login answers are never
# mirrored (a POST), so auth's extra refresh token is not compared in shadow; the parity
# suite declares that difference (tests/support/auth_parity.py).
AUTH_SHADOW = ShadowRules(
    compare=CompareRules(
        DEFAULT_IGNORED_FIELDS, headers=("content-type", "location", "www-authenticate")
    )
)


@dataclass(frozen=True, slots=True)
class Route:
    """One line of the table. ``legacy_upstream=None`` marks a capability born in a service
    (the monolith never had it): such a route is always served by new, whatever its flag."""

    name: str
    prefix: str
    legacy_upstream: str | None
    new_upstream: str
    flag: str
    shadow: ShadowRules = field(default_factory=ShadowRules)
    rollback: RollbackPolicy = field(default_factory=RollbackPolicy)

    @property
    def born_new(self) -> bool:
        return self.legacy_upstream is None

    @property
    def legacy(self) -> str:
        """The legacy upstream; only asked of routes that have one."""
        if self.legacy_upstream is None:
            raise LookupError(f"route {self.name!r} has no legacy upstream")
        return self.legacy_upstream

    def matches(self, path: str) -> bool:
        """``/api/billing`` matches itself and ``/api/billing/...``, never ``/api/billingx``."""
        return path == self.prefix or path.startswith(self.prefix.rstrip("/") + "/")


def default_routes(settings: GatewaySettings) -> list[Route]:
    legacy = settings.legacy_url
    routes = [
        #     name             prefix                legacy  new                          flag
        Route("auth", "/api/auth", legacy, settings.auth_url, "auth", shadow=AUTH_SHADOW),
        Route("users", "/api/users", legacy, settings.auth_url, "users", shadow=AUTH_SHADOW),
        Route("billing", "/api/billing", legacy, settings.billing_url, "billing",
              shadow=BILLING_SHADOW),
        Route("notifications", "/api/notifications", legacy, settings.notifications_url,
              "notifications"),
        # Finer routes. Checkout was born in the billing service: the monolith never had it.
        Route("billing-checkout", "/api/billing/checkout", None, settings.billing_url,
              "billing-checkout"),
        # Preferences can move to the notifications service before the rest of the prefix.
        Route("notification-preferences", "/api/notifications/preferences", legacy,
              settings.notifications_url, "notification-preferences"),
    ]  # fmt: skip
    unknown = set(settings.routes) - {route.name for route in routes}
    if unknown:
        raise ValueError(f"GATEWAY_ROUTES tunes routes that do not exist: {sorted(unknown)}")
    return [_tuned(route, settings) for route in routes]


def _tuned(route: Route, settings: GatewaySettings) -> Route:
    """The route with the gateway-wide rollback defaults and its own tuning applied."""
    tuning = settings.routes.get(route.name, RouteTuning())
    rollback = RollbackPolicy(
        window_seconds=_first(tuning.rollback_window_seconds, settings.rollback_window_seconds),
        min_calls=_first(tuning.rollback_min_calls, settings.rollback_min_calls),
        max_error_rate=_first(tuning.rollback_max_error_rate, settings.rollback_max_error_rate),
        max_p99_seconds=_first(tuning.rollback_max_p99_seconds, settings.rollback_max_p99_seconds),
    )
    rules = route.shadow.compare
    compare = CompareRules(
        ignore=rules.ignore + tuple(tuning.ignore_fields),
        unordered=rules.unordered + tuple(tuning.unordered_fields),
        headers=tuple(tuning.compared_headers) if tuning.compared_headers else rules.headers,
    )
    shadow = dataclasses.replace(
        route.shadow,
        compare=compare,
        mirror_writes=_first(tuning.mirror_writes, route.shadow.mirror_writes),
        noise_sample_rate=_first(tuning.noise_sample_rate, route.shadow.noise_sample_rate),
    )
    return dataclasses.replace(route, shadow=shadow, rollback=rollback)


def _first(value: T | None, default: T) -> T:
    return default if value is None else value


# Paths already matched are remembered, up to this many; past it the memo starts afresh, so a
# client sending endless distinct paths costs memory once, never more.
MATCHED_PATHS = 4096


class RouteTable:
    """Longest-prefix match over a fixed list of routes, remembered per path."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes: Sequence[Route] = sorted(routes, key=lambda r: len(r.prefix), reverse=True)
        self._matched: dict[str, Route | None] = {}

    @property
    def routes(self) -> Sequence[Route]:
        return self._routes

    def match(self, path: str) -> Route | None:
        try:
            return self._matched[path]
        except KeyError:
            pass
        route = next((route for route in self._routes if route.matches(path)), None)
        if len(self._matched) >= MATCHED_PATHS:
            self._matched.clear()
        self._matched[path] = route
        return route

    def named(self, name: str) -> Route | None:
        return next((route for route in self._routes if route.name == name), None)

    def upstreams(self) -> set[str]:
        return {
            url
            for route in self._routes
            for url in (route.legacy_upstream, route.new_upstream)
            if url is not None
        }
