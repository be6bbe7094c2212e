"""``/internal/billing/…``: billing's records as the monolith holds them, for the backfill and
the reconciliation (``strangler_migration.records_router``), and the ACL's status. Outside
``/api``: the gateway does not route it; only the operator token opens it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from strangler_migration import records_router

from legacy_monolith.runtime import Runtime

__all__ = ["billing_records_router"]


def billing_records_router(runtime: Callable[[], Runtime]) -> APIRouter:
    """The endpoints over the records and the ACL of the ``runtime`` the app holds."""
    return records_router(
        "/internal/billing",
        records=lambda: runtime().billing_records,
        sync=lambda: runtime().billing_sync,
    )
