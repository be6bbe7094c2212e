"""billing sync: record versions and origins, the inbox of the billing ACL

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:12:40.118230
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYNCED = ("subscriptions", "invoices", "payments", "refunds")


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
    op.create_table(
        "processed_events",
        sa.Column("consumer_group", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "event_id"),
    )


def downgrade() -> None:
    op.drop_table("processed_events")
    for table in reversed(SYNCED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("origin")
            batch_op.drop_column("version")
