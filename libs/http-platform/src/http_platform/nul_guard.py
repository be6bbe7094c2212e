"""Pure-ASGI guard that refuses the NUL character (U+0000) anywhere in a request.

PostgreSQL text cannot hold U+0000: a NUL in a path id, a query value or a JSON string
reached the database and came back as a 500. Refusing it at the door turns that into a
precise 400 for every process and every database, before anything is written.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from http_platform.problem_catalogue import NUL_CHARACTER
from http_platform.problem_writer import Problem, send_problem

__all__ = ["NulCharacterGuard"]

_ESCAPED_NUL = b"\\u0000"


class NulCharacterGuard:
    """Answer 400 as a problem document when the path, query or body carries a NUL.

    Add it inside ``BodySizeLimitMiddleware`` (that is, before it with ``add_middleware``),
    so the body it reads whole is already bounded.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
            await _refuse(scope, send, "the path or query")
            return
        buffered: list[Message] = []
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in buffered if m["type"] == "http.request")
        if b"\x00" in body or _ESCAPED_NUL in body:
            await _refuse(scope, send, "the body")
            return

        async def replaying_receive() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replaying_receive, send)


async def _refuse(scope: Scope, send: Send, where: str) -> None:
    problem = Problem(NUL_CHARACTER, f"The request carries a NUL character (U+0000) in {where}.")
    instance = scope.get("path", "").replace("\x00", "\\u0000")
    await send_problem(send, problem, instance=instance)
