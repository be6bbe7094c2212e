"""The shared engine under a read path: pooled connections are kept and reused without a
ping while they are fresh, one the server dropped is replaced, and SQLite answers a statement
in one hop to its connection's thread, leaving no transaction open — and a read of a page
(``read_page``, a ``reading`` block) with no hop at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest
from sqlalchemy import Column, MetaData, String, Table, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence import (
    POOL_SIZE,
    UTCDateTime,
    create_engine,
    create_session_factory,
    paginate_rows,
    read_page,
    reading,
)

from tests.integration.conftest import FreshDatabase

pytestmark = pytest.mark.integration

READERS = 16
"""Requests served at once by one process under the reads bench."""


def _count(engine: AsyncEngine, name: str) -> list[int]:
    seen = [0]

    @event.listens_for(engine.sync_engine, name)
    def _seen(*_: Any) -> None:
        seen[0] += 1

    return seen


def _count_hops(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    hops = [0]
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops[0] += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return hops


async def _read_at_once(engine: AsyncEngine, times: int) -> None:
    sessions = create_session_factory(engine)

    async def read() -> None:
        async with sessions() as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            await asyncio.sleep(0)

    for _ in range(times):
        await asyncio.gather(*(read() for _ in range(READERS)))


@pytest.fixture
async def postgres(fresh_database: FreshDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await fresh_database("persistence"), ping_after_idle_seconds=0.5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE seen (id INTEGER PRIMARY KEY)"))
    yield engine
    await engine.dispose()


async def test_as_many_readers_as_a_process_serves_at_once_keep_their_connections(
    either: AsyncEngine,
) -> None:
    engine = either
    assert POOL_SIZE >= READERS
    opened = _count(engine, "connect")

    await _read_at_once(engine, times=20)

    assert opened[0] <= READERS, "no connection is opened for one request and closed after it"


async def test_a_connection_reused_at_once_is_not_pinged(
    postgres: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _read_at_once(postgres, times=1)
    pings = [0]
    original = postgres.dialect.do_ping

    def counted(connection: Any) -> bool:
        pings[0] += 1
        return original(connection)

    monkeypatch.setattr(postgres.dialect, "do_ping", counted)
    await _read_at_once(postgres, times=5)

    assert pings[0] == 0


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    postgres: AsyncEngine,
) -> None:
    async with postgres.connect() as connection:
        backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    url = postgres.url.set(drivername="postgresql").render_as_string(hide_password=False)
    other = await asyncpg.connect(url)
    try:
        assert await other.fetchval("SELECT pg_terminate_backend($1)", backend)
    finally:
        await other.close()
    await asyncio.sleep(0.6)  # idle past ping_after_idle_seconds

    async with postgres.connect() as connection:
        answered = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()

    assert answered != backend


async def test_a_sqlite_statement_is_one_hop_to_its_thread(
    sqlite: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = create_session_factory(sqlite)
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
    hops = _count_hops(monkeypatch)

    async with sessions() as session:
        rows = (await session.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()

    assert [tuple(row) for row in rows] == [(1,), (2,)]
    assert hops[0] == 1, "the read is one hop, and ending it (nothing open) none"


SEEN = select(text("id")).select_from(text("seen")).order_by(text("id"))


async def test_a_sqlite_read_of_a_page_makes_no_hop_and_sees_the_latest_commit(
    sqlite: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await read_page(sqlite, SEEN, 10, 0)  # every pooled connection used has been opened
    sessions = create_session_factory(sqlite)
    async with sessions() as session:
        await session.execute(text("INSERT INTO seen (id) VALUES (1), (2), (3)"))
        await session.commit()
    hops = _count_hops(monkeypatch)

    page, total = await read_page(sqlite, SEEN, 2, 1)
    async with reading(sqlite) as connection:
        same, counted = await paginate_rows(connection, SEEN, 2, 1)

    assert ([row.id for row in page], total) == ([2, 3], 3)
    assert ([row.id for row in same], counted) == ([2, 3], 3)
    assert hops[0] == 0, "a read's SELECT runs on the event loop's thread"


async def test_a_write_in_a_sqlite_reading_block_still_goes_to_its_thread(
    sqlite: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = _count_hops(monkeypatch)
    async with reading(sqlite) as connection:
        await connection.execute(text("INSERT INTO seen (id) VALUES (7)"))
        inside = (await connection.execute(SEEN)).scalars().all()
        await connection.commit()
    writes_and_commit = hops[0]

    page, total = await read_page(sqlite, SEEN, 10, 0)

    assert inside == [7], "the SELECT inside the open transaction sees its own write"
    assert writes_and_commit == 3, "the INSERT, the SELECT in its transaction, the COMMIT"
    assert ([row.id for row in page], total) == ([7], 1), "the write was committed"


async def test_a_page_read_in_one_go_carries_its_total(either: AsyncEngine) -> None:
    rows = select(text("n")).select_from(text("(SELECT 1 AS n UNION ALL SELECT 2) AS numbers"))
    statement = rows.order_by(text("n"))

    page, total = await read_page(either, statement, 1, 1)
    past_the_end, counted = await read_page(either, statement, 1, 5)

    assert ([row.n for row in page], total) == ([2], 2)
    assert (list(past_the_end), counted) == ([], 2)


async def test_a_postgresql_page_read_in_one_go_is_its_own_transaction(
    postgres: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``BEGIN`` before it (and no ``ROLLBACK`` after): the statement is its transaction."""
    await read_page(postgres, select(text("1 AS one")), 1, 0)
    begun = [0]
    original = asyncpg.Connection.transaction

    def counted(self: asyncpg.Connection, **options: Any) -> Any:
        begun[0] += 1
        return original(self, **options)

    monkeypatch.setattr(asyncpg.Connection, "transaction", counted)

    (row,), total = await read_page(postgres, select(text("1 AS one")), 1, 0)

    assert (row.one, total) == (1, 1)
    assert begun[0] == 0, "no transaction is begun around the read"


async def test_a_failed_sqlite_write_is_rolled_back_and_releases_the_lock(
    sqlite: AsyncEngine,
) -> None:
    sessions = create_session_factory(sqlite)
    async with sessions() as session:
        await session.execute(text("INSERT INTO seen (id) VALUES (1)"))
        await session.commit()
    async with sessions() as session:
        await session.execute(text("INSERT INTO seen (id) VALUES (2)"))
        with pytest.raises(IntegrityError):
            await session.execute(text("INSERT INTO seen (id) VALUES (1)"))

    other = create_engine(
        f"sqlite+aiosqlite:///{sqlite.url.database}", pool_size=1, pool_overflow=0
    )
    try:
        async with other.connect() as connection:
            await connection.execute(text("PRAGMA busy_timeout=0"))
            await connection.execute(text("INSERT INTO seen (id) VALUES (3)"))
            await connection.commit()
            ids = (await connection.execute(text("SELECT id FROM seen ORDER BY id"))).all()
    finally:
        await other.dispose()
    assert [row[0] for row in ids] == [1, 3], "the failed transaction's row 2 was rolled back"


async def test_a_postgresql_read_runs_each_statement_on_its_own(postgres: AsyncEngine) -> None:
    """No ``BEGIN`` and ``ROLLBACK`` around a read: two statements, two transactions."""
    async with reading(postgres) as connection:
        first = (await connection.execute(text("SELECT now()"))).scalar_one()
        second = (await connection.execute(text("SELECT now()"))).scalar_one()

    assert first != second, "each statement is its own transaction (now() is its start)"


async def test_a_page_read_through_a_reading_connection_carries_its_total(
    either: AsyncEngine,
) -> None:
    rows = select(text("n")).select_from(text("(SELECT 1 AS n UNION ALL SELECT 2) AS numbers"))
    statement = rows.order_by(text("n"))
    async with reading(either) as connection:
        page, total = await paginate_rows(connection, statement, 1, 1)
        past_the_end, counted = await paginate_rows(connection, statement, 1, 5)

    assert ([row.n for row in page], total) == ([2], 2)
    assert (list(past_the_end), counted) == ([], 2)


STAMPS = Table(
    "stamps",
    MetaData(),
    Column("id", String(10), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
)


async def test_a_page_read_converts_values_as_its_columns_types_do(either: AsyncEngine) -> None:
    """The page is read on the driver's cursor, not through SQLAlchemy's execution, and still
    converts what a column's type converts, both ways (SQLite stores these timestamps naive)."""
    noon = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    async with either.begin() as connection:
        await connection.run_sync(STAMPS.metadata.create_all)
        await connection.execute(
            STAMPS.insert(), [{"id": "a", "at": noon}, {"id": "b", "at": noon + timedelta(hours=1)}]
        )
    executed = _count(either, "before_cursor_execute")
    after = datetime(2026, 3, 1, 13, 30, tzinfo=timezone(timedelta(hours=2)))  # 11:30 UTC
    statement = select(STAMPS.c.id, STAMPS.c.at).where(STAMPS.c.at > after).order_by(STAMPS.c.id)

    page, total = await read_page(either, statement, 10, 0)

    assert [(row.id, row.at) for row in page] == [("a", noon), ("b", noon + timedelta(hours=1))]
    assert all(row.at.tzinfo is UTC for row in page), "timestamps come back aware, in UTC"
    assert total == 2
    assert executed[0] == 0, "no statement went through SQLAlchemy's execution"


async def test_a_page_read_on_a_connection_the_server_dropped_fails_once_and_replaces_it(
    postgres: AsyncEngine,
) -> None:
    """Dropped while it was fresh (no ping before use): that read fails as SQLAlchemy's error
    saying the connection was invalidated, and the next read gets a new connection."""
    engine = create_engine(postgres.url, ping_after_idle_seconds=3600)
    whose = select(text("pg_backend_pid() AS pid"))
    try:
        ((backend, _),), _ = await read_page(engine, whose, 1, 0)
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        other = await asyncpg.connect(url)
        try:
            assert await other.fetchval("SELECT pg_terminate_backend($1)", backend)
            while await other.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", backend
            ):
                await asyncio.sleep(0.05)
        finally:
            await other.close()

        with pytest.raises(DBAPIError) as failed:
            await read_page(engine, whose, 1, 0)
        ((answered, _),), _ = await read_page(engine, whose, 1, 0)
    finally:
        await engine.dispose()

    assert failed.value.connection_invalidated
    assert answered != backend
