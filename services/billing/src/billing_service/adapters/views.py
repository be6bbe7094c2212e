"""Reads that need no aggregate: the query side, apart from the unit of work.

The public plan catalogue is billing's hottest read and changes nothing, so it loads no
``Plan`` entities and opens no transaction of the unit of work: one Core statement (the
page and its total) read in one go by ``strangler_persistence.read_page`` — on PostgreSQL
one round trip instead of three (``BEGIN``, the statement, ``ROLLBACK``), on SQLite no hop
to the connection's thread — the monolith's catalogue read exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence import read_page

from billing_service.adapters.orm import plans

__all__ = ["active_plans"]

ACTIVE_PLANS = (
    select(plans.c.id, plans.c.name, plans.c.price_cents, plans.c.currency, plans.c.interval)
    .where(plans.c.active)
    .order_by(plans.c.price_cents, plans.c.id)
)
"""The public catalogue, cheapest first, built once."""


async def active_plans(
    engine: AsyncEngine, limit: int, offset: int
) -> tuple[Sequence[Row[Any]], int]:
    """A page of the active plans, as rows with the plan's columns as attributes, and the
    number of active plans."""
    return await read_page(engine, ACTIVE_PLANS, limit, offset)
