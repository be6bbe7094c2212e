"""Alembic, run from code: every deployable owns its migrations, this module runs them.

A deployable keeps ``migrations/`` (``env.py``, ``versions/``) inside its package and names it
by ``script_location`` (``"legacy_monolith:migrations"``), so no ``alembic.ini`` has to be
found on disk. Its ``env.py`` is one call: ``run_migrations(Base.metadata)``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from strangler_persistence import UTCDateTime, create_engine

__all__ = ["alembic_config", "run_migrations", "schema_differences", "upgrade_to_head"]


def alembic_config(script_location: str, database_url: str) -> Config:
    """An Alembic configuration built in memory, for ``alembic.command`` calls."""
    config = Config()
    config.set_main_option("script_location", script_location)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(script_location: str, database_url: str) -> None:
    """Create or upgrade the database. Blocking: call it outside a running event loop."""
    command.upgrade(alembic_config(script_location, database_url), "head")


def run_migrations(target_metadata: MetaData) -> None:
    """The body of every ``env.py``: run what Alembic was asked for on an engine of ours.

    Online, the engine comes from ``create_engine``, so SQLite gets the same pragmas as the
    running app and PostgreSQL is reached through asyncpg.
    """
    url = context.config.get_main_option("sqlalchemy.url") or ""
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_online(url, target_metadata))


async def schema_differences(engine: AsyncEngine, metadata: MetaData) -> list[Any]:
    """What autogenerate would change so the database matched the models: nothing, if the
    migrations create exactly what the ORM declares."""
    async with engine.connect() as connection:
        return await connection.run_sync(_compare, metadata)


def _render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Migrations name plain SQL types, never the app's Python type decorators."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return f"sa.{item.impl!r}"
    return False


def _migrate_on(connection: Connection, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str, target_metadata: MetaData) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate_on, target_metadata)
    finally:
        await engine.dispose()


def _compare(connection: Connection, metadata: MetaData) -> list[Any]:
    migration = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(migration, metadata))
