"""The shared engine under a read path: pooled connections are kept and reused without a
ping while they are fresh, one the server dropped is replaced, and SQLite answers a statement
in one hop to its connection's thread, leaving no transaction open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence import (
    POOL_SIZE,
    create_engine,
    create_session_factory,
    paginate_rows,
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


@pytest.fixture(params=["postgres", "sqlite"])
async def either(
    request: pytest.FixtureRequest, fresh_database: FreshDatabase, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    if request.param == "postgres":
        engine = create_engine(await fresh_database("persistence"))
    else:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
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
    hops = [0]
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops[0] += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)

    async with sessions() as session:
        rows = (await session.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()

    assert [tuple(row) for row in rows] == [(1,), (2,)]
    assert hops[0] == 1, "the read is one hop, and ending it (nothing open) none"


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
