"""A client for the gateway's admin API (`/_strangler/…`), as the `strangler` commands use it.

Every failure becomes a `GatewayAdminError` whose message is one line a person can act on:
the gateway not answering, a problem document it sent (title and detail), or an answer that
is not the admin API at all. The commands print that line; nobody sees a traceback.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from strangler_flags import RouteFlag, flag_to_document

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
]

ADMIN_PREFIX = "/_strangler"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class GatewayAdminError(Exception):
    """Anything that kept an admin call from succeeding; ``str()`` is the line to show."""


class GatewayNotAnswering(GatewayAdminError):
    def __init__(self, gateway_url: str, cause: str) -> None:
        super().__init__(
            f"the gateway at {gateway_url} is not answering; is `strangler up` running?"
        )
        self.cause = cause


class GatewayProblem(GatewayAdminError):
    """The gateway refused the call with a problem document (RFC 9457)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{title}: {detail}" if detail else title)
        self.status = status
        self.title = title
        self.detail = detail


# What the commands read from the answers. Keys the gateway adds later are ignored, so an
# older `strangler` keeps working against a newer gateway.


class FlagView(BaseModel):
    route: str
    prefix: str
    mode: str
    percent: int
    force_new_user_ids: list[str] = []
    force_new_email_domains: list[str] = []


class FlagsView(BaseModel):
    kill_switch: bool
    flags: list[FlagView]

    def flag(self, route: str) -> FlagView | None:
        return next((flag for flag in self.flags if flag.route == route), None)


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
Answer = TypeVar("Answer", bound=BaseModel)


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
        self.gateway_url = gateway_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.gateway_url,
            headers={"Authorization": f"Bearer {token}", "X-Strangler-Actor": actor},
            timeout=timeout_seconds,
            transport=transport,
        )

    def __enter__(self) -> "GatewayAdmin":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def flags(self) -> FlagsView:
        return self._read(FlagsView, self._call("GET", "/flags"))

    def set_flag(self, route: str, flag: RouteFlag, reason: str) -> FlagsView:
        """Replace the route's flag — mode, percentage and targeting — as a whole."""
        change = {**flag_to_document(flag), "reason": reason}
        return self._read(FlagsView, self._call("PUT", f"/flags/{_segment(route)}", json=change))

    def history(self, route: str | None, limit: int) -> list[AuditEntry]:
        params: dict[str, str | int] = {"limit": limit}
        if route is not None:
            params["route"] = route
        answer = self._call("GET", "/flags/history", params=params)
        try:
            return _HISTORY.validate_python(answer)
        except ValidationError:
            raise self._unexpected() from None

    def set_kill_switch(self, on: bool, reason: str) -> FlagsView:
        change = {"state": "on" if on else "off", "reason": reason}
        return self._read(FlagsView, self._call("POST", "/kill-switch", json=change))

    def diffs(self, route: str) -> ShadowFigures:
        return self._read(ShadowFigures, self._call("GET", f"/diffs/{_segment(route)}"))

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        try:
            response = self._client.request(method, ADMIN_PREFIX + path, json=json, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as refused:
            raise GatewayNotAnswering(self.gateway_url, str(refused)) from None
        except httpx.TransportError as broken:
            raise GatewayAdminError(
                f"the gateway at {self.gateway_url} did not answer properly: "
                f"{type(broken).__name__} {broken}".rstrip()
            ) from None
        if response.is_error:
            raise self._refusal(response)
        try:
            return response.json()
        except ValueError:
            raise self._unexpected() from None

    def _refusal(self, response: httpx.Response) -> GatewayAdminError:
        problem: Any = None
        if response.headers.get("content-type", "").startswith(
            (PROBLEM_CONTENT_TYPE, "application/json")
        ):
            try:
                problem = response.json()
            except ValueError:
                problem = None
        if isinstance(problem, dict) and isinstance(problem.get("title"), str):
            detail = problem.get("detail")
            return GatewayProblem(
                response.status_code, problem["title"], detail if isinstance(detail, str) else ""
            )
        return GatewayAdminError(
            f"the gateway at {self.gateway_url} answered {response.status_code} "
            f"{response.reason_phrase}".rstrip()
        )

    def _unexpected(self) -> GatewayAdminError:
        return GatewayAdminError(
            f"{self.gateway_url} answered, but not as the gateway's admin API does; "
            "is that the gateway's URL?"
        )

    def _read(self, model: type[Answer], answer: Any) -> Answer:
        try:
            return model.model_validate(answer)
        except ValidationError:
            raise self._unexpected() from None


def _segment(name: str) -> str:
    """A route name as one path segment, whatever it contains."""
    return quote(name, safe="")
