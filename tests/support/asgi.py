"""Talking HTTP to an ASGI app in-process, with its lifespan run around the client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

__all__ = ["started"]


@asynccontextmanager
async def started(app: FastAPI, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Start ``app`` and yield a client into it; ``ASGITransport`` does not run the lifespan."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=base_url) as client,
    ):
        yield client
