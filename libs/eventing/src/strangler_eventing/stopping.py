"""Waiting that ends early when the background loop is asked to stop."""

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
