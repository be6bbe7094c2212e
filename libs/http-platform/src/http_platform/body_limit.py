"""Pure-ASGI guard that refuses request bodies over a size limit before the app reads them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from http_platform.problem_catalogue import PAYLOAD_TOO_LARGE
from http_platform.problem_writer import Problem, send_problem

__all__ = ["BodySizeLimitMiddleware"]


class BodySizeLimitMiddleware:
    """Answer 413 as a problem document when a body exceeds ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before the app runs. A chunked
    body is read up to the limit before the app runs and refused as soon as it crosses it:
    the app never sees a partial body and never writes anything for it. Counting inside the
    app's ``receive`` would not do: FastAPI turns any error raised while it reads the body
    into a 400, so the refusal has to happen before the app is called.

    Before answering, the rest of an oversize body is read and discarded (up to
    ``drain_bytes``), so an ordinary client that is still sending reads the 413 instead of a
    reset connection. Beyond that the connection is simply closed.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, drain_bytes: int = 4 * 1024 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.drain_bytes = drain_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._drain(receive)
            await self._refuse(scope, send)
            return

        buffered: list[Message] = []
        received = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                if message.get("more_body", False):
                    await self._drain(receive)
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break

        async def replaying_receive() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replaying_receive, send)

    async def _drain(self, receive: Receive) -> None:
        drained = 0
        while drained <= self.drain_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

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
