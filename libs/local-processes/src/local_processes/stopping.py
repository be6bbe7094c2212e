"""Waiting that ends early when the process is asked to stop: the one pause every background
loop takes (a relay when idle, a consumer between retries, the loop supervisor between
restarts), so that shutting down never waits a backoff out."""

from __future__ import annotations

import asyncio

__all__ = ["stopped_within"]


async def stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds``; True as soon as ``stop`` is set, False if the time ran out."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
