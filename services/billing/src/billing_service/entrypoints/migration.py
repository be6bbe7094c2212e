"""Billing's side of the data migration from the monolith (the README's "Data migration").

- ``/internal/billing/…``: billing's records, for the reconciliation (and as an export).
- ``/internal/migration/billing``: the backfill from the monolith's export, driven a few
  pages per call (``strangler migrate billing backfill``), and the sync's status.
- ``legacy_changes``: the consumer that applies the monolith's billing events.

All three write or read the tables through ``adapters/records``, below the domain.
"""

from __future__ import annotations

from fastapi import Request
from strangler_contracts.records import (
    BILLING_ENTITIES,
    BILLING_PRECEDENCE,
    BILLING_SYNCED_EVENTS,
    billing_record_changes,
)
from strangler_eventing import BrokerConfig
from strangler_migration import (
    Backfill,
    ExportSource,
    Side,
    SqlRecords,
    SyncConsumer,
    backfill_router,
    records_router,
    upsert_sink,
)
from strangler_persistence import SessionFactory

from billing_service.adapters.orm import checkpoints, inbox
from billing_service.adapters.records import BINDINGS
from billing_service.domain.records import BILLING

__all__ = ["MIGRATION", "legacy_backfill", "legacy_changes", "migration_router", "records"]

MIGRATION = "billing"


def legacy_changes(broker: BrokerConfig, group: str, sessions: SessionFactory) -> SyncConsumer:
    """The consumer of ``strangler.billing`` that applies the monolith's changes here."""
    return SyncConsumer(
        side=Side(BILLING),
        group=group,
        broker=broker,
        sessions=sessions,
        inbox=inbox,
        bindings=BINDINGS,
        events=BILLING_SYNCED_EVENTS,
        translate=billing_record_changes,
        precedence=BILLING_PRECEDENCE,
    )


def legacy_backfill(source: ExportSource, sessions: SessionFactory, page_size: int) -> Backfill:
    """Copies every billing entity from the monolith's export, parents first."""
    return Backfill(
        migration=MIGRATION,
        entities=BILLING_ENTITIES,
        source=source,
        sink=upsert_sink(BINDINGS, BILLING_PRECEDENCE),
        sessions=sessions,
        checkpoints=checkpoints,
        page_size=page_size,
    )


def _records(request: Request) -> SqlRecords:
    found: SqlRecords = request.app.state.billing_records
    return found


def _backfill(request: Request) -> Backfill:
    running: Backfill = request.app.state.legacy_backfill
    return running


def _sync(request: Request) -> SyncConsumer | None:
    consumer: SyncConsumer | None = request.app.state.legacy_sync
    return consumer


records = records_router("/internal/billing", _records, _sync)
migration_router = backfill_router(f"/internal/migration/{MIGRATION}", _backfill, _sync)
