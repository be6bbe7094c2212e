"""Moving a capability's data out of the monolith, mechanism only; what the records are is
the capability's (``strangler_contracts.records`` for billing).

- ``conflicts``: the version rule (higher version wins, then a fixed precedence of sides)
  and ``Side``, which tells a side's own changes from the other's (no loops).
- ``tables``: ``TableBinding`` (an entity's table on one side) and ``SqlRecords``, which
  reads records for keyset export pages, checksums, look-ups and counts.
- ``routes``: ``records_router``, those reads as the endpoints both sides serve, and
  ``backfill_router``, the receiving side's backfill and sync status.
- ``applying``: ``apply_change``, the idempotent versioned upsert of a change from the other
  side, below the domain.
- ``backfill``: ``Backfill``, resumable page by page with checkpoints in the side's database,
  from an ``ExportSource`` such as ``HttpExportSource``.
- ``sync``: ``SyncConsumer``, the idempotent consumer of the other side's events, with a
  ``ChangeApplier`` handling each.
- ``canonical`` and ``drift``: record checksums, and the per-record comparison of two sides.
- ``invariants``: business rules each side's records must keep on their own (``AtMostOne``,
  ``TotalWithin``), for a reconciliation that sees more than equality.
"""

from strangler_migration.applying import Applied, ChangeRefused, MissingRecord, apply_change
from strangler_migration.backfill import (
    Backfill,
    BackfillProgress,
    EntityProgress,
    ExportSource,
    ExportUnavailable,
    HttpExportSource,
    RecordSink,
    checkpoint_table,
    upsert_sink,
)
from strangler_migration.canonical import canonical_fields, canonical_value, record_checksum
from strangler_migration.conflicts import Side, Stamp, Stamped, incoming_wins
from strangler_migration.drift import (
    EntityDrift,
    FieldDifference,
    compare_checksums,
    differing_fields,
)
from strangler_migration.invariants import (
    AtMostOne,
    Invariant,
    RecordsByEntity,
    TotalWithin,
    Violation,
    violations,
)
from strangler_migration.routes import (
    MAX_EXPORT_PAGE,
    MigrationStatus,
    backfill_router,
    records_router,
)
from strangler_migration.sync import ChangeApplier, SyncConsumer, Translation
from strangler_migration.tables import SqlRecords, TableBinding, UnknownEntity
from strangler_migration.wire import (
    EntityChecksums,
    EntityCounts,
    ExportedRecord,
    ExportPage,
    RecordLookup,
    RecordsFound,
    RecordSummary,
    SyncStatus,
)

__all__ = [
    "MAX_EXPORT_PAGE",
    "Applied",
    "AtMostOne",
    "Backfill",
    "BackfillProgress",
    "ChangeApplier",
    "ChangeRefused",
    "EntityChecksums",
    "EntityCounts",
    "EntityDrift",
    "EntityProgress",
    "ExportPage",
    "ExportSource",
    "ExportUnavailable",
    "ExportedRecord",
    "FieldDifference",
    "HttpExportSource",
    "Invariant",
    "MigrationStatus",
    "MissingRecord",
    "RecordLookup",
    "RecordSink",
    "RecordSummary",
    "RecordsByEntity",
    "RecordsFound",
    "Side",
    "SqlRecords",
    "Stamp",
    "Stamped",
    "SyncConsumer",
    "SyncStatus",
    "TableBinding",
    "TotalWithin",
    "Translation",
    "UnknownEntity",
    "Violation",
    "apply_change",
    "backfill_router",
    "canonical_fields",
    "canonical_value",
    "checkpoint_table",
    "compare_checksums",
    "differing_fields",
    "incoming_wins",
    "record_checksum",
    "records_router",
    "upsert_sink",
    "violations",
]
