"""Billing's side of the data migration from the monolith (the README's "Data migration"),
as internal endpoints over what ``bootstrap_process`` built:

- ``/internal/billing/…``: billing's records, for the reconciliation (and as an export).
- ``/internal/migration/billing``: the backfill from the monolith's export, driven a few
  pages per call (``strangler migrate billing backfill``), and the sync's status.

Both read or write the tables through ``adapters/records``, below the domain; the consumer
applying the monolith's events (``BillingProcess.legacy_sync``) runs as a background loop.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from strangler_migration import backfill_router, records_router

from billing_service.bootstrap import MIGRATION, BillingProcess, legacy_changes

__all__ = ["legacy_changes", "migration_routers"]


def migration_routers(process: Callable[[], BillingProcess]) -> list[APIRouter]:
    """The records and backfill endpoints over the ``process`` the app holds."""
    return [
        records_router(
            "/internal/billing",
            records=lambda: process().records,
            sync=lambda: process().legacy_sync,
        ),
        backfill_router(
            f"/internal/migration/{MIGRATION}",
            backfill=lambda: process().legacy_backfill,
            sync=lambda: process().legacy_sync,
        ),
    ]
