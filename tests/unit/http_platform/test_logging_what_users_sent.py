"""A log line never carries raw user input: a path's line separators and terminal escapes
are written escaped, so a request cannot forge a log line or repaint a terminal."""

from __future__ import annotations

import logging
import unicodedata

import pytest
from fastapi import FastAPI
from http_platform import install_problem_handlers

from tests.unit.http_platform.asgi_get import asgi_get

FORGED = "/items/x\u20282026-12-06 INFO admin logged in\x85\x1b[2J"


def _failing_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> None:
        raise RuntimeError("the handler failed")

    return app


async def test_an_unexpected_failure_logs_the_path_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        status = await asgi_get(_failing_app(), FORGED)

    assert status == 500
    [record] = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    message = record.getMessage()
    assert [c for c in message if unicodedata.category(c)[0] in "CZ" and c != " "] == []
    assert "admin logged in" in message
