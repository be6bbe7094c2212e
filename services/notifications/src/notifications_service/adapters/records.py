"""Notifications' tables as the records of the data migration
(``strangler_contracts.notification_records``).

The tables have the monolith's shape, so the records' names are the columns' own; a user's
preferences are keyed by the user id. The backfill and the sync write these tables with plain
SQL through the bindings, below the domain: a record copied from the monolith sends no mail
and is never published as this service's.
"""

from __future__ import annotations

from typing import Final

from strangler_contracts.notification_records import (
    NOTIFICATION_FIELDS,
    NOTIFICATIONS,
    PREFERENCES,
)
from strangler_migration import TableBinding

from notifications_service.adapters.tables import notification_preferences, notifications

__all__ = ["BINDINGS"]

BINDINGS: Final = (
    TableBinding(
        PREFERENCES, notification_preferences, NOTIFICATION_FIELDS[PREFERENCES], key="user_id"
    ),
    TableBinding(NOTIFICATIONS, notifications, NOTIFICATION_FIELDS[NOTIFICATIONS]),
)
