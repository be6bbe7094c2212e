"""The one writer of RFC 9457 problem documents, for FastAPI handlers and raw ASGI alike.

Stable API (other components build on these names)::

    from http_platform.problem_catalogue import PAYLOAD_TOO_LARGE, ProblemCatalogue, ProblemType
    from http_platform.problem_writer import (
        Problem, problem_document, send_problem, raw_problem_response, PROBLEM_CONTENT_TYPE,
    )

    problem = Problem(PAYLOAD_TOO_LARGE, "Bodies are limited to 1024 bytes.", max_bytes=1024)
    raise problem                                             # in a FastAPI app
    await send_problem(send, problem, instance="/api/x")      # in raw ASGI code
    transport.write(raw_problem_response(problem))            # below ASGI (a protocol)
    problem_document(problem, instance="/api/x")              # -> the JSON bytes

``Problem(type, detail=None, *, headers=None, **extensions)`` is built from a
:class:`~http_platform.problem_catalogue.ProblemType`; ``headers`` are extra response headers
(``Retry-After``, ``WWW-Authenticate``), ``extensions`` extra members of the document.
The older form ``Problem(status, slug, title, detail)`` still works while call sites move to
catalogue types; the catalogue test finds every slug either form uses.

This module imports nothing but the standard library (``to_response`` imports FastAPI's
response class when it is called).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, overload

from http_platform.problem_catalogue import ProblemType

if TYPE_CHECKING:
    from http_platform.problems import ProblemResponse

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "Problem",
    "RawHeaders",
    "problem_document",
    "raw_problem_response",
    "send_problem",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"

RawHeaders = Iterable[tuple[bytes, bytes]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Problem(Exception):
    """An error answer: raise it in request handling, or send it with :func:`send_problem`."""

    @overload
    def __init__(
        self,
        kind: ProblemType,
        detail: str | None = None,
        /,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None: ...

    @overload
    def __init__(
        self,
        kind: int,
        slug: str,
        title: str,
        detail: str | None = None,
        /,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None: ...

    def __init__(
        self,
        kind: ProblemType | int,
        /,
        *args: str | None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        detail: str | None
        if isinstance(kind, ProblemType):
            self.type = kind
            detail = args[0] if args else None
        else:
            slug, title = str(args[0]), str(args[1])
            self.type = ProblemType(slug, title, kind)
            detail = args[2] if len(args) > 2 else None
        super().__init__(detail or self.type.title)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions

    @property
    def status(self) -> int:
        return self.type.status

    @property
    def slug(self) -> str:
        return self.type.slug

    @property
    def title(self) -> str:
        return self.type.title

    def to_document(self, instance: str | None = None) -> dict[str, Any]:
        """The document's members: type, title, status, then detail, instance, extensions."""
        document: dict[str, Any] = {
            "type": self.type.uri,
            "title": self.type.title,
            "status": self.type.status,
        }
        if self.detail is not None:
            document["detail"] = self.detail
        if instance is not None:
            document["instance"] = instance
        document.update(self.extensions)
        return document

    def to_response(self, instance: str | None = None) -> ProblemResponse:
        """A FastAPI/Starlette response carrying this problem."""
        from http_platform.problems import ProblemResponse

        return ProblemResponse(
            self.to_document(instance), status_code=self.status, headers=self.headers
        )


def problem_document(problem: Problem, instance: str | None = None) -> bytes:
    """The ``application/problem+json`` body of ``problem``."""
    return json.dumps(problem.to_document(instance)).encode()


def _head(problem: Problem, body: bytes, close: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in problem.headers.items()
    ]
    if close:
        headers.append((b"connection", b"close"))
    return headers


async def send_problem(
    send: _Send,
    problem: Problem,
    *,
    instance: str | None = None,
    headers: RawHeaders = (),
    close: bool = False,
) -> None:
    """Answer ``problem`` through an ASGI ``send``; ``headers`` are added after its own.

    ``close=True`` asks the server to close the connection after the answer (a request whose
    body was not read whole must not leave the rest to be parsed as the next request).
    """
    body = problem_document(problem, instance)
    head = _head(problem, body, close) + list(headers)
    await send({"type": "http.response.start", "status": problem.status, "headers": head})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def raw_problem_response(problem: Problem, instance: str | None = None) -> bytes:
    """A whole HTTP/1.1 answer (status line, headers, body) that closes the connection,
    for code below ASGI that writes to a transport."""
    body = problem_document(problem, instance)
    try:
        reason = HTTPStatus(problem.status).phrase
    except ValueError:
        reason = problem.title
    lines = [f"HTTP/1.1 {problem.status} {reason}".encode()]
    lines += [name + b": " + value for name, value in _head(problem, body, close=True)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
