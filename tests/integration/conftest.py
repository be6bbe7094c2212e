"""Fixtures for tests against real infrastructure: a PostgreSQL server, trust auth.

The server comes from ``STRANGLER_TEST_POSTGRES_URL`` (default: the local one). Every test
gets databases of its own, created with a random name and dropped when it ends.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import asyncpg
import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get(
    "STRANGLER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

Migrate = Callable[[str], None]


class FreshDatabase(Protocol):
    def __call__(self, name_prefix: str, migrate: Migrate | None = None) -> Awaitable[str]: ...


def _server_url(database: str | None = None) -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


async def _on_server(statement: str) -> None:
    connection = await asyncpg.connect(_server_url())
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def fresh_database() -> AsyncIterator[FreshDatabase]:
    """A factory of new, empty databases, each dropped after the test.

    ``await fresh_database("monolith", migrate=upgrade_to_head)`` creates
    ``monolith_<random>``, runs the blocking ``migrate`` on it in a thread, and answers its
    ``postgresql+asyncpg://`` URL.
    """
    created: list[str] = []

    async def create(name_prefix: str, migrate: Migrate | None = None) -> str:
        prefix = re.sub(r"[^a-z0-9_]", "_", name_prefix.lower())
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        await _on_server(f'CREATE DATABASE "{name}"')
        created.append(name)
        url = make_url(_server_url(name)).set(drivername="postgresql+asyncpg")
        rendered = url.render_as_string(hide_password=False)
        if migrate is not None:
            await asyncio.to_thread(migrate, rendered)
        return rendered

    yield create
    for name in created:
        await _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
