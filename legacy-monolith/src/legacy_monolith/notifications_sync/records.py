"""Notifications' records in the monolith's tables, in the vocabulary of
``strangler_contracts.notification_records``: the names are the columns' own, and a user's
preferences are keyed by the user id."""

from __future__ import annotations

from typing import Final

from strangler_contracts.notification_records import (
    NOTIFICATION_FIELDS,
    NOTIFICATIONS,
    PREFERENCES,
)
from strangler_migration import TableBinding

from legacy_monolith.models import Notification, NotificationPreferences

__all__ = ["BINDINGS"]

BINDINGS: Final = (
    TableBinding(
        PREFERENCES,
        NotificationPreferences.__table__,  # type: ignore[arg-type]
        NOTIFICATION_FIELDS[PREFERENCES],
        key="user_id",
    ),
    TableBinding(
        NOTIFICATIONS,
        Notification.__table__,  # type: ignore[arg-type]
        NOTIFICATION_FIELDS[NOTIFICATIONS],
    ),
)
"""Exported to the service, compared, and written back through the ACL."""
