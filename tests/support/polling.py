"""Waiting for something that happens asynchronously: poll until it holds, with a deadline.

The one polling helper of the test suite: a test that waits for a condition uses
``eventually``, so that every wait is bounded and fails naming what did not happen.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

__all__ = ["eventually"]

POLL_SECONDS = 0.1

Condition = Callable[[], Awaitable[bool]] | Callable[[], bool]
"""Asked again and again: a plain function or a coroutine function answering whether it holds."""


async def eventually(
    condition: Condition, what: str, within: float, every: float = POLL_SECONDS
) -> None:
    """Return as soon as ``condition()`` holds; fail naming ``what`` if it does not in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await _holds(condition):
        if loop.time() > deadline:
            raise AssertionError(f"not within {within:g} s: {what}")
        await asyncio.sleep(every)


async def _holds(condition: Condition) -> bool:
    answer = condition()
    return bool(await answer) if inspect.isawaitable(answer) else bool(answer)
