"""Serving an ASGI app on a real port of 127.0.0.1 inside the test's event loop.

For tests where components talk HTTP to each other (billing reading the monolith's export)
or a command line talks to them: ``httpx.ASGITransport`` only serves the test's own client.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

__all__ = ["free_port", "serving"]

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


KEEP_ALIVE_SECONDS = 120


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Run ``app`` (lifespan included) with uvicorn on a free port; yield its base URL."""
    # A kept-alive connection the server closes after 5 idle seconds (uvicorn's default) can
    # be reused by the test's client at that very moment: a ReadError that says nothing about
    # the app. The test shares this event loop, whose pauses under load last that long.
    config = uvicorn.Config(
        app,
        host=HOST,
        port=free_port(),
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_SECONDS
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        if loop.time() > deadline:
            raise AssertionError(f"not serving within {START_TIMEOUT_SECONDS:g} s")
        await asyncio.sleep(0.02)
    try:
        yield f"http://{HOST}:{config.port}"
    finally:
        server.should_exit = True
        await task
