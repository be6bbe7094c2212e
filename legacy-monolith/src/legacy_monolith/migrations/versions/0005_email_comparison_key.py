"""users.email_key: the comparison key of each address, unique, so look-alikes collide

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 07:20:00.000000

Existing rows get the key ``strangler_identity.comparison_key`` gives their address. Two
existing accounts whose addresses share a key (look-alikes the old rules let in) keep both:
the older one keeps the key, each later one gets ``<key>#<user id>``, so it can no longer be
reached by logging in with a look-alike, and an operator can merge or contact them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from strangler_identity import comparison_key

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_key", sa.String(length=320), nullable=True))
    users = sa.table(
        "users",
        sa.column("id", sa.String),
        sa.column("email", sa.String),
        sa.column("email_key", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    connection = op.get_bind()
    taken: set[str] = set()
    rows = connection.execute(
        sa.select(users.c.id, users.c.email).order_by(users.c.created_at, users.c.id)
    )
    for user_id, email in list(rows):
        key = comparison_key(email)
        if key in taken:
            key = f"{key}#{user_id}"
        taken.add(key)
        connection.execute(users.update().where(users.c.id == user_id).values(email_key=key))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("email_key", existing_type=sa.String(length=320), nullable=False)
        batch_op.create_unique_constraint("uq_users_email_key", ["email_key"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_email_key", type_="unique")
        batch_op.drop_column("email_key")
