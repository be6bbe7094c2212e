"""Redirects that never repeat the request's ``Host``: same-origin ``Location`` made relative.

Starlette builds the absolute URL of a redirect it makes itself (``redirect_slashes``:
``/api/billing/invoices/`` → ``/api/billing/invoices``) from the ``Host`` the client sent.
A client, or a proxy forwarding its own address, could so have a process name any host it
likes in ``Location``. A ``Location`` whose origin is the request's own is rewritten here to
the same path with no origin, which every client resolves against the URL it asked (RFC 9110
§10.2.2); a redirect to another site passes untouched.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RelativeRedirects", "relative_redirects"]


class RelativeRedirects:
    """Pure-ASGI middleware: a 3xx ``Location`` naming the request's own host loses its origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, relative_redirects(scope, send))


def relative_redirects(scope: Scope, send: Send) -> Send:
    """``send`` for ``scope``'s answer, with a 3xx ``Location`` naming its own host made
    relative."""

    async def send_relative(message: Message) -> None:
        if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
            own_host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
            message["headers"] = [
                (name, _relative(value, own_host) if name.lower() == b"location" else value)
                for name, value in message["headers"]
            ]
        await send(message)

    return send_relative


def _relative(location: bytes, own_host: str) -> bytes:
    parts = urlsplit(location.decode("latin-1"))
    if not parts.netloc or parts.netloc.lower() != own_host:
        return location
    relative = parts.path or "/"
    if parts.query:
        relative += "?" + parts.query
    if parts.fragment:
        relative += "#" + parts.fragment
    return relative.encode("latin-1")
