"""closure attempts: a paused account closure can be resumed, each resume asks billing again

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 13:30:00.000000

Existing closures are their first attempt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_closures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("account_closures", schema=None) as batch_op:
        batch_op.drop_column("attempt")
