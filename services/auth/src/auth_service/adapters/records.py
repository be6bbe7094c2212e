"""Auth's ``users`` as the records of the data migration (``strangler_contracts.user_records``).

The columns are the monolith's (``name`` and ``created_at`` are the record's
``display_name`` and ``registered_at``); ``updated_at`` is auth's own, set whenever the
backfill or the sync writes a row. They write with plain SQL through this binding, below
the domain: a change copied from the monolith is not published again as auth's.
"""

from __future__ import annotations

from typing import Final

from strangler_contracts.user_records import USER_FIELDS, USERS
from strangler_migration import TableBinding

from auth_service.adapters.orm import users

__all__ = ["BINDINGS"]

BINDINGS: Final = (
    TableBinding(
        USERS,
        users,
        USER_FIELDS[USERS],
        renamed={"display_name": "name", "registered_at": "created_at"},
        touched_column="updated_at",
    ),
)
