"""flags: every route's flag, the kill switch, and the audit trail of their changes

Revision ID: 0001
Revises:
Create Date: 2026-11-30 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "route_flags",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "kill_switch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "flag_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("flag_audit", schema=None) as batch_op:
        batch_op.create_index("ix_flag_audit_at", ["at"], unique=False)
        batch_op.create_index("ix_flag_audit_subject", ["subject"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flag_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_flag_audit_subject")
        batch_op.drop_index("ix_flag_audit_at")

    op.drop_table("flag_audit")
    op.drop_table("kill_switch")
    op.drop_table("route_flags")
