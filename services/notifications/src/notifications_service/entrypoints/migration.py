"""Notifications' side of the data migration from the monolith (the README's "Moving
notifications"), as internal endpoints over what ``bootstrap_process`` built:

- ``/internal/notifications/…``: the history and preferences held here, for the
  reconciliation (``strangler migrate notifications verify``) and as an export.
- ``/internal/migration/notifications``: the backfill from the monolith's export, driven a
  few pages per call (``strangler migrate notifications backfill``), and the sync's status.

Both read or write the tables through ``adapters/records``, below the domain; the consumer
applying the monolith's changes (``NotificationsProcess.legacy_sync``) runs as the
``legacy-sync`` background loop.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from strangler_migration import backfill_router, records_router

from notifications_service.bootstrap import MIGRATION, NotificationsProcess

__all__ = ["migration_routers"]


def migration_routers(process: Callable[[], NotificationsProcess]) -> list[APIRouter]:
    """The records and backfill endpoints over the ``process`` the app holds."""
    return [
        records_router(
            f"/internal/{MIGRATION}",
            records=lambda: process().records,
            sync=lambda: process().legacy_sync,
        ),
        backfill_router(
            f"/internal/migration/{MIGRATION}",
            backfill=lambda: process().legacy_backfill,
            sync=lambda: process().legacy_sync,
        ),
    ]
