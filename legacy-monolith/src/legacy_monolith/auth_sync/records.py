"""Account records in the monolith's tables, as ``strangler_contracts.user_records`` names them.

A user is a row of ``users``, whose ``name`` and ``created_at`` are the record's
``display_name`` and ``registered_at``; its ``version`` and ``origin`` say which change it
is and which side made it (``models.SyncedRecord``).
"""

from __future__ import annotations

from typing import Final

from strangler_contracts.user_records import USER_FIELDS, USERS
from strangler_migration import TableBinding

from legacy_monolith.models import User

__all__ = ["BINDINGS"]

BINDINGS: Final = (
    TableBinding(
        USERS,
        User.__table__,  # type: ignore[arg-type]
        USER_FIELDS[USERS],
        renamed={"display_name": "name", "registered_at": "created_at"},
    ),
)
