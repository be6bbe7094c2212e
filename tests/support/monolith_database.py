"""The monolith's database in tests: its plan catalogue, and a snapshot of all it holds."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from legacy_monolith.database import Base, create_engine, create_session_factory
from legacy_monolith.models import Plan
from legacy_monolith.seed import PLANS
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "MONOLITH_TABLES",
    "DatabaseState",
    "Snapshot",
    "database_state",
    "insert_plan_catalogue",
]

MONOLITH_TABLES = (
    "users",
    "plans",
    "subscriptions",
    "invoices",
    "payments",
    "refunds",
    "notifications",
    "notification_preferences",
    "outbox",
    "processed_events",
    "account_closures",
)


@dataclass(frozen=True)
class DatabaseState:
    row_counts: dict[str, int]
    checksum: str


Snapshot = Callable[[], Awaitable[DatabaseState]]


async def database_state(engine: AsyncEngine) -> DatabaseState:
    """Row counts of every table and one checksum over all their rows, in key order."""
    assert set(Base.metadata.tables) == set(MONOLITH_TABLES), "snapshot every table"
    digest = hashlib.sha256()
    row_counts: dict[str, int] = {}
    async with engine.connect() as connection:
        for name in MONOLITH_TABLES:
            table = Base.metadata.tables[name]
            result = await connection.execute(select(table).order_by(*table.primary_key.columns))
            rows = result.all()
            row_counts[name] = len(rows)
            digest.update(name.encode())
            for row in rows:
                digest.update(repr(tuple(row)).encode())
    return DatabaseState(row_counts, digest.hexdigest())


async def insert_plan_catalogue(database_url: str) -> None:
    """The seed's plans and nothing else: no demo users, so no slow password hashing."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            session.add_all(
                Plan(
                    id=plan.id,
                    name=plan.name,
                    price_cents=plan.price_cents,
                    currency=plan.currency,
                    interval=plan.interval,
                    active=True,
                )
                for plan in PLANS
            )
    finally:
        await engine.dispose()
