"""A unit of work's session (``create_session_factory``) however it ends: what it committed
is kept, what it did not commit is gone, and its connection is back in the pool for the
next request — when its transaction commits, when the block raises, when the session is
closed mid-transaction, and when its task is cancelled meanwhile."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from strangler_persistence import create_session_factory

pytestmark = pytest.mark.integration

METADATA = MetaData()
WRITES = Table("writes", METADATA, Column("id", Integer, primary_key=True))


@pytest.fixture
async def engine(either: AsyncEngine) -> AsyncEngine:
    async with either.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    return either


async def _kept(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as connection:
        return list((await connection.scalars(select(WRITES.c.id).order_by(WRITES.c.id))).all())


def _in_use(engine: AsyncEngine) -> int:
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


async def test_a_committed_unit_of_work_keeps_its_writes_and_returns_its_connection(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    for i in range(3):
        async with sessions() as session, session.begin():
            await session.execute(insert(WRITES).values(id=i))
        assert _in_use(engine) == 0
    assert await _kept(engine) == [0, 1, 2]


async def test_a_unit_of_work_that_raises_keeps_nothing_and_returns_its_connection(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)

    async def request() -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert(WRITES).values(id=1))
            raise LookupError("the request failed after its write")

    with pytest.raises(LookupError):
        await request()
    assert _in_use(engine) == 0
    assert await _kept(engine) == []


async def test_a_session_closed_mid_transaction_keeps_nothing_and_returns_its_connection(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        await session.execute(insert(WRITES).values(id=1))
        assert session.in_transaction()
    assert _in_use(engine) == 0
    assert await _kept(engine) == []


async def test_a_unit_of_work_cancelled_mid_transaction_keeps_nothing_and_returns_it(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    written = asyncio.Event()

    async def request() -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert(WRITES).values(id=1))
            written.set()
            await asyncio.Event().wait()  # a slow call to another service

    task = asyncio.create_task(request())
    await written.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _in_use(engine) == 0
    assert await _kept(engine) == []


async def test_a_session_that_only_read_returns_its_connection(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WRITES)) == 0
    async with sessions() as session, session.begin():
        pass
    assert _in_use(engine) == 0
