"""The route table: which public path prefix belongs to which flag and which two upstreams.

One line per route. A service that takes over only part of a prefix gets a longer prefix of
its own; the longest matching prefix wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from strangler_gateway.settings import GatewaySettings

__all__ = ["Route", "RouteTable", "default_routes"]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    prefix: str
    legacy_upstream: str
    new_upstream: str
    flag: str

    def matches(self, path: str) -> bool:
        """``/api/billing`` matches itself and ``/api/billing/...``, never ``/api/billingx``."""
        return path == self.prefix or path.startswith(self.prefix.rstrip("/") + "/")


def default_routes(settings: GatewaySettings) -> list[Route]:
    legacy = settings.legacy_url
    return [
        #     name             prefix                legacy  new                          flag
        Route("auth", "/api/auth", legacy, settings.auth_url, "auth"),
        Route("users", "/api/users", legacy, settings.auth_url, "users"),
        Route("billing", "/api/billing", legacy, settings.billing_url, "billing"),
        Route("notifications", "/api/notifications", legacy, settings.notifications_url,
              "notifications"),
    ]  # fmt: skip


class RouteTable:
    """Longest-prefix match over a fixed list of routes."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes: Sequence[Route] = sorted(routes, key=lambda r: len(r.prefix), reverse=True)

    @property
    def routes(self) -> Sequence[Route]:
        return self._routes

    def match(self, path: str) -> Route | None:
        return next((route for route in self._routes if route.matches(path)), None)

    def upstreams(self) -> set[str]:
        return {
            url for route in self._routes for url in (route.legacy_upstream, route.new_upstream)
        }
