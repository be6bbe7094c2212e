"""The correlation id and the trace of the work in progress, carried from a request into every
event it causes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

from strangler_eventing.tracing import request_trace, response_status

__all__ = ["CorrelationMiddleware", "correlation_id", "use_correlation_id"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)

REQUEST_HEADERS = (b"x-correlation-id", b"x-request-id")


def correlation_id() -> str | None:
    return _current.get()


def use_correlation_id(value: str | None) -> None:
    """Set the correlation id for the current task (a consumer does this per message)."""
    _current.set(value)


class CorrelationMiddleware:
    """Take ``X-Correlation-ID`` (or ``X-Request-ID``) from the request, or make one up;
    expose it to events recorded while serving the request and echo it on the response.

    The request also runs in its trace (``tracing.request_trace``): the caller's
    ``traceparent`` continued, or a new trace, so events recorded while serving it carry it
    on; a recorded server span only when spans are exported. One ASGI layer for both."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        incoming = next((headers[name] for name in REQUEST_HEADERS if name in headers), None)
        value = incoming.decode("latin-1")[:200] if incoming else str(uuid.uuid4())
        header = (b"x-correlation-id", value.encode())
        token = _current.set(value)
        try:
            with request_trace(scope) as span:

                async def send_with_id(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        message["headers"] = [*message.get("headers", ()), header]
                        response_status(span, message["status"])
                    await send(message)

                await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
