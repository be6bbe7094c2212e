"""A log line never carries raw user input: a path's line separators and terminal escapes
are written escaped, so a request cannot forge a log line or repaint a terminal."""

from __future__ import annotations

import contextlib
import logging
import unicodedata
from typing import Any

import pytest
from fastapi import FastAPI
from http_platform import install_problem_handlers

FORGED = "/items/x\u20282026-12-06 INFO admin logged in\x85\x1b[2J"


def _failing_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> None:
        raise RuntimeError("the handler failed")

    return app


async def _get(app: FastAPI, path: str) -> int:
    """The status of ``GET path``, sent as a server passes a percent-decoded path on."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"app")],
        "client": ("127.0.0.1", 1),
        "server": ("app", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with contextlib.suppress(RuntimeError):  # re-raised after the answer, for the server to log
        await app(scope, receive, send)
    status: int = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status


async def test_an_unexpected_failure_logs_the_path_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        status = await _get(_failing_app(), FORGED)

    assert status == 500
    [record] = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    message = record.getMessage()
    assert [c for c in message if unicodedata.category(c)[0] in "CZ" and c != " "] == []
    assert "admin logged in" in message
