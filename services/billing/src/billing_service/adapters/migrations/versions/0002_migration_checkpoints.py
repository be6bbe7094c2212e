"""data migration: the backfill's checkpoints

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:40:12.509311
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "migration_checkpoints",
        sa.Column("migration", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=True),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("migration", "entity", name=op.f("pk_migration_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("migration_checkpoints")
