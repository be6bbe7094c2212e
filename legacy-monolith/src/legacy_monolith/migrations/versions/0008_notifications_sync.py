"""notifications sync: mails and preferences carry a record version and origin, for the two-way
sync with the notifications service

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:20:00.000000

Existing mails and preferences are version 1, made by the monolith. The notifications ACL's
consumer shares the ``processed_events`` inbox (0004) under its own consumer group.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYNCED = ("notifications", "notification_preferences")


def upgrade() -> None:
    for table in SYNCED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("version", sa.Integer(), server_default="1", nullable=False)
            )
            batch_op.add_column(
                sa.Column(
                    "origin", sa.String(length=40), server_default="legacy-monolith", nullable=False
                )
            )


def downgrade() -> None:
    for table in reversed(SYNCED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("origin")
            batch_op.drop_column("version")
