"""``/internal/notifications/…``: the history and preferences as the monolith holds them, for the
service's backfill and the reconciliation (``strangler_migration.records_router``), and the
ACL's status. Outside ``/api``: the gateway does not route it; only the operator token opens
it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from strangler_contracts.notification_records import NOTIFICATION_RECORDS
from strangler_migration import records_router

from legacy_monolith.runtime import Runtime

__all__ = ["notification_records_router"]


def notification_records_router(runtime: Callable[[], Runtime]) -> APIRouter:
    """The endpoints over the notification records and the ACL of the ``runtime`` the app holds."""
    return records_router(
        f"/internal/{NOTIFICATION_RECORDS.capability}",
        records=lambda: runtime().notification_records,
        sync=lambda: runtime().notifications_sync,
    )
