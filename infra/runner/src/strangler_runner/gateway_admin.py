"""A client for the gateway's admin API (`/_strangler/…` on its operator listener, :8081 by
default — never the public entry), as the `strangler` commands use it.

Every failure becomes a `GatewayAdminError` (a `ComponentCallFailed`, see `component_api.py`)
whose message is one line a person can act on: the gateway not answering, a problem document
it sent (title and detail), or an answer that is not the admin API at all.
"""

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, TypeAdapter
from strangler_flags import RouteFlag, flag_to_document

from strangler_runner.component_api import (
    ComponentApi,
    ComponentCallFailed,
    ComponentNotAnswering,
    ComponentProblem,
)

__all__ = [
    "ADMIN_PREFIX",
    "AuditEntry",
    "Difference",
    "FlagView",
    "FlagsView",
    "GatewayAdmin",
    "GatewayAdminError",
    "GatewayNotAnswering",
    "GatewayProblem",
    "ShadowFigures",
    "SideEffectView",
]

ADMIN_PREFIX = "/_strangler"

# The names the commands and their tests know these failures by.
GatewayAdminError = ComponentCallFailed
GatewayNotAnswering = ComponentNotAnswering
GatewayProblem = ComponentProblem


# What the commands read from the answers. Keys the gateway adds later are ignored, so an
# older `strangler` keeps working against a newer gateway.


class FlagView(BaseModel):
    route: str
    prefix: str
    mode: str
    percent: int
    force_new_user_ids: list[str] = []
    force_new_email_domains: list[str] = []


class SideEffectView(BaseModel):
    """A side-effect flag (``mail``): who does the work, ``legacy`` or ``new``."""

    name: str
    mode: str
    legacy: str = ""
    new: str = ""
    force_new_user_ids: list[str] = []
    force_new_email_domains: list[str] = []


class FlagsView(BaseModel):
    kill_switch: bool
    flags: list[FlagView]
    side_effects: list[SideEffectView] = []

    def flag(self, name: str) -> FlagView | SideEffectView | None:
        """The route's flag, or the side-effect flag of that name."""
        route = next((flag for flag in self.flags if flag.route == name), None)
        return route or next((e for e in self.side_effects if e.name == name), None)


class AuditEntry(BaseModel):
    at: datetime
    who: str
    subject: str
    old: dict[str, Any] | None
    new: dict[str, Any]
    reason: str


class Difference(BaseModel):
    at: datetime
    method: str
    target: str
    fields: list[str]


class ShadowFigures(BaseModel):
    route: str
    mirrored: int
    compared: int
    differing: int
    noisy: int | None = None
    noisy_fields: list[str] = Field(default_factory=list)
    dropped: int
    failed: int
    diff_rate: float
    recent: list[Difference]


_HISTORY = TypeAdapter(list[AuditEntry])


class GatewayAdmin:
    """Calls on the admin API of one gateway, as one actor named in its audit trail."""

    def __init__(
        self,
        gateway_url: str,
        token: str,
        actor: str,
        *,
        timeout_seconds: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api = ComponentApi(
            "the gateway",
            gateway_url,
            "admin API",
            headers={"Authorization": f"Bearer {token}", "X-Strangler-Actor": actor},
            timeout_seconds=timeout_seconds,
            transport=transport,
            prefix=ADMIN_PREFIX,
        )
        self.gateway_url = self._api.url

    def __enter__(self) -> "GatewayAdmin":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._api.close()

    def flags(self) -> FlagsView:
        return self._api.read(FlagsView, self._api.call("GET", "/flags"))

    def set_flag(self, route: str, flag: RouteFlag, reason: str) -> FlagsView:
        """Replace the route's flag — mode, percentage and targeting — as a whole."""
        change = {**flag_to_document(flag), "reason": reason}
        return self._api.read(
            FlagsView, self._api.call("PUT", f"/flags/{_segment(route)}", json=change)
        )

    def history(self, route: str | None, limit: int) -> list[AuditEntry]:
        params: dict[str, str | int] = {"limit": limit}
        if route is not None:
            params["route"] = route
        return self._api.read(_HISTORY, self._api.call("GET", "/flags/history", params=params))

    def set_kill_switch(self, on: bool, reason: str) -> FlagsView:
        change = {"state": "on" if on else "off", "reason": reason}
        return self._api.read(FlagsView, self._api.call("POST", "/kill-switch", json=change))

    def diffs(self, route: str) -> ShadowFigures:
        return self._api.read(ShadowFigures, self._api.call("GET", f"/diffs/{_segment(route)}"))


def _segment(name: str) -> str:
    """A route name as one path segment, whatever it contains."""
    return quote(name, safe="")
