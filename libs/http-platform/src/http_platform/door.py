"""The door of a ``ServiceApp``: every guard a request passes before the app, in one layer.

Each guard was its own ASGI layer (``RelativeRedirects``, ``BodySizeLimitMiddleware``,
``NulCharacterGuard``), and each layer is a call, a closure and an await per request, and the
two body guards each read the body ahead of the app and replayed it. :class:`RequestDoor`
does what the three did, once:

- a NUL (U+0000) in the path or query: 400 (``nul-character``);
- a declared ``Content-Length`` over the limit: 413, before anything is read;
- a body: read whole before the app runs, bounded in size (413 as soon as it crosses the
  limit) and time (408 when the client sends nothing of it for ``body_timeout`` seconds),
  then a NUL in it (raw or ``\\u0000``): 400; the app gets the body replayed;
- a request that declares no body (no ``Content-Length``, no ``Transfer-Encoding``: it has
  none in HTTP/1.1) goes straight to the app, nothing read ahead;
- the answer: a 3xx ``Location`` naming the request's own host made relative.

Counting the body inside the app's ``receive`` would not do: FastAPI turns any error raised
while it reads the body into a 400, so a refusal has to happen before the app is called. A
refusal for the body's size or time closes the connection; the rest of the body, still on
its way, is discarded by the protocol's lingering close (``request_head``), so a client that
writes its whole body before reading gets the answer instead of a reset.

``BodySizeLimitMiddleware`` and ``NulCharacterGuard`` are this door with one guard each, for
an app that is not a ``ServiceApp``.
"""

from __future__ import annotations

import asyncio
import math

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from http_platform.problem_catalogue import NUL_CHARACTER, PAYLOAD_TOO_LARGE, REQUEST_TIMEOUT
from http_platform.problem_writer import Problem, send_problem
from http_platform.redirects import relative_redirects

__all__ = ["RequestDoor"]

_ESCAPED_NUL = b"\\u0000"


class RequestDoor:
    """One pure-ASGI layer: NUL, body size and body time guards, and relative redirects.

    ``max_bytes=None``: no bound on the body's size; ``body_timeout=None``: none on its time;
    ``refuse_nul=False``: NUL let through; ``relative=False``: redirects as the app made them.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int | None,
        body_timeout: float | None = 10.0,
        *,
        refuse_nul: bool = True,
        relative: bool = True,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout = body_timeout
        self.refuse_nul = refuse_nul
        self.relative = relative

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.refuse_nul and _nul_in_target(scope):
            await _refuse_nul(scope, send, "the path or query")
            return
        if _declares_body(scope):
            try:
                body = await self._body(scope, receive)
            except _BodyRefused as refused:
                await send_problem(send, refused.problem, instance=scope["path"], close=True)
                return
            if self.refuse_nul and _nul_in_body(body):
                await _refuse_nul(scope, send, "the body")
                return
            receive = _replaying(body, receive)
        await self.app(scope, receive, relative_redirects(scope, send) if self.relative else send)

    async def _body(self, scope: Scope, receive: Receive) -> list[Message]:
        """The request's messages up to the end of its body, read whole."""
        limit = math.inf if self.max_bytes is None else self.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            raise _BodyRefused(self._too_large())
        buffered: list[Message] = []
        received = 0
        while True:
            try:
                async with asyncio.timeout(self.body_timeout):
                    message = await receive()
            except TimeoutError:
                raise _BodyRefused(self._timed_out()) from None
            buffered.append(message)
            if message["type"] != "http.request":
                return buffered
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyRefused(self._too_large())
            if not message.get("more_body", False):
                return buffered

    def _too_large(self) -> Problem:
        return Problem(
            PAYLOAD_TOO_LARGE,
            f"The request body exceeds the limit of {self.max_bytes} bytes.",
            max_bytes=self.max_bytes,
        )

    def _timed_out(self) -> Problem:
        return Problem(
            REQUEST_TIMEOUT,
            f"The client sent nothing of its body for {self.body_timeout:g} seconds.",
        )


class _BodyRefused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def _declares_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replaying(buffered: list[Message], receive: Receive) -> Receive:
    async def replaying_receive() -> Message:
        if buffered:
            return buffered.pop(0)
        return await receive()

    return replaying_receive


def _nul_in_target(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


def _nul_in_body(messages: list[Message]) -> bool:
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    return b"\x00" in body or _ESCAPED_NUL in body


async def _refuse_nul(scope: Scope, send: Send, where: str) -> None:
    problem = Problem(NUL_CHARACTER, f"The request carries a NUL character (U+0000) in {where}.")
    await send_problem(send, problem, instance=scope["path"].replace("\x00", "\\u0000"))
