"""Schema migrations, run programmatically so no alembic.ini has to be found on disk."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

__all__ = ["alembic_config", "upgrade_to_head"]


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "legacy_monolith:migrations")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Create or upgrade the database. Blocking: call it outside a running event loop."""
    command.upgrade(alembic_config(database_url), "head")
