"""Waiting for something that happens asynchronously: poll until it holds, with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["eventually"]

POLL_SECONDS = 0.1


async def eventually(
    condition: Callable[[], Awaitable[bool]], what: str, within: float, every: float = POLL_SECONDS
) -> None:
    """Return as soon as ``condition()`` holds; fail naming ``what`` if it does not in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within:g} s: {what}")
        await asyncio.sleep(every)
