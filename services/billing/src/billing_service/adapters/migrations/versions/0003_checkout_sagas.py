"""checkout sagas: the saga tables, and a pending subscription counts as the customer's one

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:35:07.290152
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_PER_CUSTOMER = "uq_subscriptions_one_active_per_customer"
ACTIVE = "status = 'active'"
ACTIVE_OR_PENDING = "status IN ('active', 'pending')"


def _one_subscription_per_customer(where: str) -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(ONE_PER_CUSTOMER)
        batch_op.create_index(
            ONE_PER_CUSTOMER,
            ["customer_id"],
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def upgrade() -> None:
    op.create_table(
        "sagas",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("saga_type", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sagas")),
        sa.UniqueConstraint(
            "saga_type", "idempotency_key", name="uq_sagas_saga_type_idempotency_key"
        ),
    )
    op.create_index("ix_sagas_due", "sagas", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_sagas_updated_at", "sagas", ["updated_at"], unique=False)
    op.create_table(
        "saga_history",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("saga_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["saga_id"], ["sagas.id"], name="fk_saga_history_saga_id_sagas"),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_saga_history")),
    )
    op.create_index(
        "ix_saga_history_saga_id", "saga_history", ["saga_id", "position"], unique=False
    )
    _one_subscription_per_customer(ACTIVE_OR_PENDING)


def downgrade() -> None:
    _one_subscription_per_customer(ACTIVE)
    op.drop_index("ix_saga_history_saga_id", table_name="saga_history")
    op.drop_table("saga_history")
    op.drop_index("ix_sagas_updated_at", table_name="sagas")
    op.drop_index("ix_sagas_due", table_name="sagas")
    op.drop_table("sagas")
