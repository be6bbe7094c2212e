"""What the data-migration endpoints answer, read by the other side and by ``strangler``.

Keys added later are ignored by readers, so an older reader keeps working.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from http_platform.problem_catalogue import ProblemCatalogue
from pydantic import BaseModel, Field

__all__ = [
    "BACKFILL_PAGE_REFUSED",
    "DATA_MIGRATION_PROBLEMS",
    "EXPORT_UNAVAILABLE",
    "SYNC_NOT_RUNNING",
    "UNKNOWN_ENTITY",
    "EntityChecksums",
    "EntityCounts",
    "ExportPage",
    "ExportedRecord",
    "RecordLookup",
    "RecordSummary",
    "RecordsFound",
    "SyncStatus",
]


DATA_MIGRATION_PROBLEMS = ProblemCatalogue("data-migration")
SYNC_NOT_RUNNING = DATA_MIGRATION_PROBLEMS.define(
    "sync-not-running",
    "Sync not running",
    404,
    "GET /internal/…/sync on a process whose two-way sync setting is off.",
)
UNKNOWN_ENTITY = DATA_MIGRATION_PROBLEMS.define(
    "unknown-entity", "Unknown entity", 404, "The entity named in the URL is not one that moves."
)
BACKFILL_PAGE_REFUSED = DATA_MIGRATION_PROBLEMS.define(
    "backfill-page-refused",
    "A page of the backfill was refused",
    409,
    "A record of the page could not be applied yet (e.g. its customer is missing); the "
    "checkpoint stays, and the next call retries the page.",
)
EXPORT_UNAVAILABLE = DATA_MIGRATION_PROBLEMS.define(
    "export-unavailable",
    "The other side's export is unavailable",
    502,
    "The backfill could not read a page from the side it copies from.",
)


class ExportedRecord(BaseModel):
    """One record: its id, stamp and canonical fields (``strangler_contracts.records``)."""

    id: str
    version: int
    origin: str
    data: dict[str, Any]


class ExportPage(BaseModel):
    """A page of an entity in id order. ``next_cursor`` is null on the last page; pass it
    as ``after`` to read the next one. ``total`` counts the entity's records now."""

    entity: str
    records: list[ExportedRecord]
    next_cursor: str | None
    total: int


class RecordSummary(BaseModel):
    version: int
    origin: str
    checksum: str


class EntityChecksums(BaseModel):
    """Every record of an entity as its id, stamp and content checksum."""

    entity: str
    count: int
    records: dict[str, RecordSummary]


class RecordLookup(BaseModel):
    ids: list[str] = Field(max_length=1000)


class RecordsFound(BaseModel):
    entity: str
    records: list[ExportedRecord]


class EntityCounts(BaseModel):
    counts: dict[str, int]


class SyncStatus(BaseModel):
    """One direction of two-way sync, as the consumer applying it sees it in this process."""

    group: str
    running: bool
    applied: int = 0
    skipped_own: int = 0
    last_event_type: str | None = None
    last_event_time: datetime | None = None
    last_applied_at: datetime | None = None
    lag: int | None = None
