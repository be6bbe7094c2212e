"""choreography events: what billing observes of account closures, for the operators' view

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "choreography_events",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("correlation_id", sa.String(length=200), nullable=False),
        sa.Column("choreography", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_choreography_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_choreography_events_event_id")),
    )
    with op.batch_alter_table("choreography_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_choreography_events_correlation_id", ["correlation_id", "position"], unique=False
        )
        batch_op.create_index(
            "ix_choreography_events_choreography", ["choreography", "position"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("choreography_events", schema=None) as batch_op:
        batch_op.drop_index("ix_choreography_events_choreography")
        batch_op.drop_index("ix_choreography_events_correlation_id")
    op.drop_table("choreography_events")
