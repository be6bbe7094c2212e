"""auth sync: users carry a record version and origin, for the two-way sync with auth

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00.000000

Existing users are version 1, made by the monolith. The auth ACL's consumer shares the
``processed_events`` inbox (0004) under its own consumer group.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(
            sa.Column(
                "origin", sa.String(length=40), server_default="legacy-monolith", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("origin")
        batch_op.drop_column("version")
