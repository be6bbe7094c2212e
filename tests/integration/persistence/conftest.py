"""The engines the persistence tests run on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence import create_engine

from tests.integration.conftest import FreshDatabase


@pytest.fixture(params=["postgres", "sqlite"])
async def either(
    request: pytest.FixtureRequest, fresh_database: FreshDatabase, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """A fresh engine on PostgreSQL, then on SQLite: each test runs on both."""
    if request.param == "postgres":
        engine = create_engine(await fresh_database("persistence"))
    else:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    yield engine
    await engine.dispose()
