"""``/internal/billing/…``: billing's records as the monolith holds them, for the backfill and
the reconciliation (``strangler_migration.records_router``). Outside ``/api``: the gateway
does not route it."""

from __future__ import annotations

from fastapi import Request
from strangler_migration import SqlRecords, SyncConsumer, records_router

__all__ = ["router"]


def _records(request: Request) -> SqlRecords:
    records: SqlRecords = request.app.state.billing_records
    return records


def _sync(request: Request) -> SyncConsumer | None:
    sync: SyncConsumer | None = request.app.state.billing_sync
    return sync


router = records_router("/internal/billing", _records, _sync)
