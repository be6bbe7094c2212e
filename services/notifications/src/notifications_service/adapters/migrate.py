"""Notifications' schema migrations, run from code so no alembic.ini has to be found on disk."""

from __future__ import annotations

from strangler_persistence import migrations

__all__ = ["SCRIPT_LOCATION", "upgrade_to_head"]

SCRIPT_LOCATION = "notifications_service.adapters:migrations"


def upgrade_to_head(database_url: str) -> None:
    """Create or upgrade the database. Blocking: call it outside a running event loop."""
    migrations.upgrade_to_head(SCRIPT_LOCATION, database_url)
