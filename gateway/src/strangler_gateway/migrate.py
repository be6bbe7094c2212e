"""The flag tables' migrations, run programmatically so no alembic.ini has to be found on disk."""

from __future__ import annotations

from strangler_persistence import migrations

__all__ = ["SCRIPT_LOCATION", "upgrade_to_head"]

SCRIPT_LOCATION = "strangler_gateway:migrations"


def upgrade_to_head(database_url: str) -> None:
    """Create or upgrade the flag tables. Blocking: call it outside a running event loop."""
    migrations.upgrade_to_head(SCRIPT_LOCATION, database_url)
