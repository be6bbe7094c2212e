"""Engines for SQLite (embedded profile) or PostgreSQL (asyncpg), UTC timestamps, pagination."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import DateTime, Select, event, func, select
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "POOL_OVERFLOW",
    "POOL_SIZE",
    "POOL_TIMEOUT_SECONDS",
    "SessionFactory",
    "UTCDateTime",
    "create_engine",
    "create_session_factory",
    "utcnow",
]

SessionFactory = async_sessionmaker[AsyncSession]
Row = TypeVar("Row")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


POOL_SIZE: Final = 5
POOL_OVERFLOW: Final = 10
POOL_TIMEOUT_SECONDS: Final = 3.0
"""How long a request waits for a pooled connection before giving up: a few seconds, so a
busy pool answers 503 at once rather than holding every caller for SQLAlchemy's 30 s."""


def create_engine(
    database_url: str,
    *,
    pool_size: int = POOL_SIZE,
    pool_overflow: int = POOL_OVERFLOW,
    pool_timeout_seconds: float = POOL_TIMEOUT_SECONDS,
) -> AsyncEngine:
    """An engine for SQLite (embedded profile) or PostgreSQL through asyncpg.

    PostgreSQL connections are pooled: ``pool_size`` kept, ``pool_overflow`` more opened
    under load, and a request that finds none free within ``pool_timeout_seconds`` gets
    ``sqlalchemy.exc.TimeoutError``. SQLite gets WAL, foreign keys and a busy timeout, so
    concurrent requests wait for the write lock instead of failing with "database is
    locked".
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(
            url,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=pool_overflow,
            pool_timeout=pool_timeout_seconds,
        )
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


async def paginate(
    session: AsyncSession, statement: Select[Row], limit: int, offset: int
) -> tuple[list[Row], int]:
    """One page of ``statement``'s rows (one entity each) and the total row count.

    One query when the page has rows: the total rides on each row as ``count(*) OVER ()``.
    Only a page past the end (no row to carry it) asks for the count on its own.
    """
    counted = statement.add_columns(func.count().over()).limit(limit).offset(offset)
    page = (await session.execute(counted)).all()
    if page:
        return [row[0] for row in page], int(page[0][-1])
    if offset == 0:
        return [], 0
    total = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    return [], total or 0
