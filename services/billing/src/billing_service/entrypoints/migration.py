"""Billing's side of the data migration from the monolith (the README's "Data migration").

- ``/internal/billing/…``: billing's records, for the reconciliation (and as an export).
- ``/internal/migration/billing``: the backfill from the monolith's export, driven a few
  pages per call (``strangler migrate billing backfill``), and the sync's status.
- ``legacy_changes``: the consumer that applies the monolith's billing events.

All three write or read the tables through ``adapters/records``, below the domain.
"""

from __future__ import annotations

from strangler_contracts.records import BILLING_RECORDS
from strangler_eventing import BrokerConfig
from strangler_migration import (
    Backfill,
    ExportSource,
    Side,
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
        Side(BILLING),
        BILLING_RECORDS,
        BINDINGS,
        group=group,
        broker=broker,
        sessions=sessions,
        inbox=inbox,
    )


def legacy_backfill(source: ExportSource, sessions: SessionFactory, page_size: int) -> Backfill:
    """Copies every billing entity from the monolith's export, parents first."""
    return Backfill(
        migration=MIGRATION,
        entities=BILLING_RECORDS.entities,
        source=source,
        sink=upsert_sink(BINDINGS, BILLING_RECORDS.precedence),
        sessions=sessions,
        checkpoints=checkpoints,
        page_size=page_size,
    )


records = records_router("/internal/billing", records="billing_records", sync="legacy_sync")
migration_router = backfill_router(
    f"/internal/migration/{MIGRATION}", backfill="legacy_backfill", sync="legacy_sync"
)
