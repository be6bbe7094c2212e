"""A ``GET`` straight into an ASGI app, as a server passes it on (the path percent-decoded)."""

from __future__ import annotations

import contextlib
from typing import Any

CLIENT = ("203.0.113.7", 52114)


async def asgi_get(app: Any, path: str, query: bytes = b"") -> int:
    """The status ``app`` answers ``GET path?query`` with, from ``CLIENT``; an error the app
    re-raises after its answer (for the server to log) is not raised here."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"app")],
        "client": CLIENT,
        "server": ("app", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with contextlib.suppress(RuntimeError):
        await app(scope, receive, send)
    status: int = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status
