"""The saga tables on either database a service may run on, for the SQL store's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence import create_engine, create_session_factory
from strangler_sagas import SqlSagaStore, saga_tables

from tests.integration.conftest import FreshDatabase


@dataclass(frozen=True)
class SagaDatabase:
    engine: AsyncEngine
    store: SqlSagaStore


@pytest.fixture(params=["sqlite", "postgresql"])
async def saga_database(
    request: pytest.FixtureRequest, fresh_database: FreshDatabase, tmp_path: Path
) -> AsyncIterator[SagaDatabase]:
    """A fresh SQLite file or PostgreSQL database with the saga tables, and a store on it."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'sagas.db'}"
    else:
        url = await fresh_database("sagas")
    metadata = MetaData()
    tables = saga_tables(metadata)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield SagaDatabase(engine, SqlSagaStore(create_session_factory(engine), tables))
    await engine.dispose()
