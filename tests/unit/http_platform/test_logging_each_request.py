"""The access log: one line per answered request, in uvicorn's format, the lines of one step
of the event loop written together; none for the runner's health probes, and no raw user
input that could forge a line."""

from __future__ import annotations

import asyncio
import io

from fastapi import FastAPI
from http_platform.access_log import AccessLog

from tests.unit.http_platform.asgi_get import asgi_get


class _Stream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def test_each_answer_is_a_line_and_one_step_s_lines_are_one_write() -> None:
    stream = _Stream()
    logged = AccessLog(_app(), stream)

    statuses = await asyncio.gather(
        asgi_get(logged, "/items/a", b"limit=5"),
        asgi_get(logged, "/nowhere"),
        asgi_get(logged, "/items/b"),
    )
    await asyncio.sleep(0)  # the end of the step

    assert list(statuses) == [200, 404, 200]
    assert sorted(stream.getvalue().splitlines()) == [
        'INFO:     203.0.113.7:52114 - "GET /items/a?limit=5 HTTP/1.1" 200 OK',
        'INFO:     203.0.113.7:52114 - "GET /items/b HTTP/1.1" 200 OK',
        'INFO:     203.0.113.7:52114 - "GET /nowhere HTTP/1.1" 404 Not Found',
    ]
    assert stream.writes == 1


async def test_health_probes_are_not_logged() -> None:
    stream = _Stream()
    logged = AccessLog(_app(), stream)

    assert await asgi_get(logged, "/health/live") == 200
    await asyncio.sleep(0)

    assert stream.getvalue() == ""


async def test_a_path_cannot_forge_a_line() -> None:
    stream = _Stream()
    logged = AccessLog(_app(), stream)

    await asgi_get(logged, "/items/x\u20282026-12-06 INFO admin logged in\n\x1b[2J")
    await asyncio.sleep(0)

    (line,) = stream.getvalue().splitlines()
    assert line.startswith('INFO:     203.0.113.7:52114 - "GET /items/x%E2%80%A82026-12-06')
    assert "\x1b" not in line
    assert "\u2028" not in line
