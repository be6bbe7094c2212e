"""Pure-ASGI guard that refuses request bodies over a size limit before the app reads them."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from http_platform.problem_catalogue import PAYLOAD_TOO_LARGE, REQUEST_TIMEOUT
from http_platform.problem_writer import Problem, send_problem

__all__ = ["BodySizeLimitMiddleware"]


class BodySizeLimitMiddleware:
    """Answer 413 as a problem document when a body exceeds ``max_bytes``, and 408 when the
    client stops sending its body for ``body_timeout`` seconds.

    A declared ``Content-Length`` over the limit is refused before the app runs. A chunked
    body is read up to the limit before the app runs and refused as soon as it crosses it:
    the app never sees a partial body and never writes anything for it. Counting inside the
    app's ``receive`` would not do: FastAPI turns any error raised while it reads the body
    into a 400, so the refusal has to happen before the app is called.

    Both refusals close the connection; the rest of the body, still on its way, is discarded
    by the protocol's lingering close (``request_head``), so a client that writes its whole
    body before reading gets the answer instead of a reset. A client that declares a body and
    never sends it is answered 408 after ``body_timeout`` seconds instead of holding a request
    open for ever.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, body_timeout: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send)
            return

        buffered: list[Message] = []
        received = 0
        while True:
            try:
                async with asyncio.timeout(self.body_timeout):
                    message = await receive()
            except TimeoutError:
                await self._time_out(scope, send)
                return
            buffered.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break

        async def replaying_receive() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replaying_receive, send)

    async def _time_out(self, scope: Scope, send: Send) -> None:
        problem = Problem(
            REQUEST_TIMEOUT,
            f"The client sent nothing of its body for {self.body_timeout:g} seconds.",
        )
        await send_problem(send, problem, instance=scope.get("path", ""), close=True)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        problem = Problem(
            PAYLOAD_TOO_LARGE,
            f"The request body exceeds the limit of {self.max_bytes} bytes.",
            max_bytes=self.max_bytes,
        )
        await send_problem(send, problem, instance=scope.get("path", ""), close=True)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
