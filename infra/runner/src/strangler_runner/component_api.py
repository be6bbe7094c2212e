"""Calling one component's HTTP API from a `strangler` command, with failures people can read.

Every failure becomes a `ComponentCallFailed` whose message is one line a person can act on:
the component not answering, a problem document it sent (RFC 9457: title and detail), or an
answer that is not the API asked for at all. The commands print that line; nobody sees a
traceback. The clients of the gateway's admin API, billing's sagas and the data migration are
this class plus the paths and answer models of their API.
"""

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

__all__ = ["ComponentApi", "ComponentCallFailed", "ComponentNotAnswering", "ComponentProblem"]

PROBLEM_CONTENT_TYPE = "application/problem+json"
Answer = TypeVar("Answer")


class ComponentCallFailed(Exception):
    """Anything that kept a call from succeeding; ``str()`` is the line to show."""


class ComponentNotAnswering(ComponentCallFailed):
    def __init__(self, name: str, url: str, cause: str = "") -> None:
        super().__init__(f"{name} at {url} is not answering; is `strangler up` running?")
        self.cause = cause


class ComponentProblem(ComponentCallFailed):
    """The component refused the call with a problem document; ``who`` prefixes the line."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        problem_type: str | None = None,
        *,
        who: str | None = None,
    ) -> None:
        line = f"{title}: {detail}" if detail else title
        super().__init__(f"{who}: {line}" if who else line)
        self.status = status
        self.title = title
        self.detail = detail
        self.problem_type = problem_type


class ComponentApi:
    """One component's API at ``url``: ``name`` is how messages call the component ("the
    gateway", "billing"), ``api`` what it serves there ("admin API"), for the line saying an
    answer is not that; ``name_problems`` puts the name before a problem's title."""

    def __init__(
        self,
        name: str,
        url: str,
        api: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_seconds: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        prefix: str = "",
        name_problems: bool = False,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.api = api
        self.prefix = prefix
        self.name_problems = name_problems
        self._client = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout_seconds, transport=transport
        )

    def __enter__(self) -> "ComponentApi":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """The JSON answer to ``method`` on ``prefix + path``, or a `ComponentCallFailed`."""
        try:
            response = self._client.request(method, self.prefix + path, json=json, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as refused:
            raise ComponentNotAnswering(self.name, self.url, str(refused)) from None
        except httpx.TransportError as broken:
            raise ComponentCallFailed(
                f"{self.name} at {self.url} did not answer properly: "
                f"{type(broken).__name__} {broken}".rstrip()
            ) from None
        if response.is_error:
            raise self._refusal(response)
        try:
            return response.json()
        except ValueError:
            raise self.unexpected() from None

    def read(self, model: type[Answer] | TypeAdapter[Answer], answer: Any) -> Answer:
        """``answer`` as ``model`` (a pydantic model or adapter), or the line saying it is not
        what this API answers."""
        adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
        try:
            return adapter.validate_python(answer)
        except ValidationError:
            raise self.unexpected() from None

    def unexpected(self) -> ComponentCallFailed:
        return ComponentCallFailed(
            f"{self.url} answered, but not as {self.name}'s {self.api} does; "
            f"is that {self.name}'s URL?"
        )

    def _refusal(self, response: httpx.Response) -> ComponentCallFailed:
        problem = _problem(response)
        if problem is not None and isinstance(problem.get("title"), str):
            detail, kind = problem.get("detail"), problem.get("type")
            return ComponentProblem(
                response.status_code,
                problem["title"],
                detail if isinstance(detail, str) else "",
                kind if isinstance(kind, str) else None,
                who=self.name if self.name_problems else None,
            )
        if response.status_code == 404:
            # No problem document: nothing of this API is at that path.
            return self.unexpected()
        return ComponentCallFailed(
            f"{self.name} at {self.url} answered {response.status_code} "
            f"{response.reason_phrase}".rstrip()
        )


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    if not response.headers.get("content-type", "").startswith(
        (PROBLEM_CONTENT_TYPE, "application/json")
    ):
        return None
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
