"""The backfill: copying what the other side holds, page by page, resumable and idempotent.

Entities are copied one after the other, in the order given (parents first), each in pages
read from an ``ExportSource`` (keyset pages in id order). Each page is applied in ONE
transaction together with the entity's checkpoint — the cursor after the page and the
counts so far — so a backfill stopped at any moment resumes after the last page it
committed, and never applies a page twice in effect. Applying is an idempotent versioned
upsert (``apply_change``), so running the whole backfill again writes nothing.

Changes made on the other side while the backfill runs reach this side by events (the
two-way sync); the version rule makes the order in which a record arrives by both paths
irrelevant.

A record this side refuses (``ChangeRefused``) may only be waiting for another one: after the
broker lost its log, this side can still hold a subscription as active that the other side
has since cancelled and replaced, and the replacement, met first, breaks "one active
subscription per customer" until the cancellation is copied too. So a refused record is set
aside — tried again after the rest of its page, then after every later page of its entity —
and only what is still refused once the entity's last page is in fails the backfill.
Set-aside records live in this process: a backfill stopped meanwhile leaves them to
``verify`` and the next ``--restart``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ValidationError
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts.records import RecordChange
from strangler_persistence import SessionFactory, UTCDateTime, utcnow

from strangler_migration.applying import Applied, ChangeRefused, apply_change
from strangler_migration.tables import TableBinding
from strangler_migration.wire import ExportedRecord, ExportPage

__all__ = [
    "Backfill",
    "BackfillProgress",
    "EntityProgress",
    "ExportSource",
    "ExportUnavailable",
    "HttpExportSource",
    "RecordSink",
    "checkpoint_table",
    "upsert_sink",
]


class ExportSource(Protocol):
    async def page(self, entity: str, after: str | None, limit: int) -> ExportPage: ...


class ExportUnavailable(Exception):
    """The other side's export could not be read; ``str()`` is one line saying why."""


class HttpExportSource:
    """Pages from ``GET {base_url}/export/{entity}?after=&limit=`` of the other side; the
    export is internal, so ``headers`` carry the operator credential."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout_seconds, transport=transport
        )

    async def page(self, entity: str, after: str | None, limit: int) -> ExportPage:
        params: dict[str, str | int] = {"limit": limit}
        if after is not None:
            params["after"] = after
        try:
            response = await self._client.get(f"/export/{entity}", params=params)
        except httpx.TransportError as exc:
            raise ExportUnavailable(
                f"the export at {self.base_url} is not answering ({type(exc).__name__})"
            ) from None
        if response.is_error:
            raise ExportUnavailable(
                f"the export at {self.base_url} answered {response.status_code} for {entity}"
            )
        try:
            return ExportPage.model_validate_json(response.content)
        except ValidationError:
            raise ExportUnavailable(
                f"{self.base_url}/export/{entity} did not answer an export page"
            ) from None

    async def aclose(self) -> None:
        await self._client.aclose()


def checkpoint_table(metadata: MetaData, name: str = "migration_checkpoints") -> Table:
    """Where a backfill remembers, per entity, how far it got; added to the side's metadata
    (and so to its migrations) like the outbox."""
    return Table(
        name,
        metadata,
        Column("migration", String(100), primary_key=True),
        Column("entity", String(100), primary_key=True),
        Column("cursor", String(200), nullable=True),
        Column("scanned", Integer, nullable=False),
        Column("written", Integer, nullable=False),
        Column("finished", Boolean, nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
    )


class EntityProgress(BaseModel):
    """How far the backfill of one entity got: ``scanned`` records read from the other side,
    ``written`` of them changed something here; ``cursor`` is the last id committed."""

    entity: str
    cursor: str | None = None
    scanned: int = 0
    written: int = 0
    finished: bool = False
    updated_at: datetime | None = None


class BackfillProgress(BaseModel):
    migration: str
    entities: list[EntityProgress]

    @property
    def finished(self) -> bool:
        return all(entity.finished for entity in self.entities)


RecordSink = Callable[[AsyncSession, str, ExportedRecord], Awaitable[bool]]
"""Applies one exported record in the page's transaction; answers whether it wrote."""


def upsert_sink(bindings: Sequence[TableBinding], precedence: Sequence[str]) -> RecordSink:
    """Each exported record applied as a complete change, by the version rule."""
    by_entity = {binding.entity: binding for binding in bindings}

    async def apply(session: AsyncSession, entity: str, record: ExportedRecord) -> bool:
        change = RecordChange(
            entity, record.id, record.version, record.origin, record.data, complete=True
        )
        applied = await apply_change(session, by_entity[entity], change, precedence)
        return applied is not Applied.SKIPPED

    return apply


class Backfill:
    """Copies ``entities`` from ``source`` through ``sink``, checkpointed in ``checkpoints``
    under the name ``migration``."""

    def __init__(
        self,
        *,
        migration: str,
        entities: Sequence[str],
        source: ExportSource,
        sink: RecordSink,
        sessions: SessionFactory,
        checkpoints: Table,
        page_size: int = 200,
    ) -> None:
        self.migration = migration
        self.entities = tuple(entities)
        self.source = source
        self.sink = sink
        self.sessions = sessions
        self.checkpoints = checkpoints
        self.page_size = page_size
        self._running = asyncio.Lock()
        self._set_aside: dict[str, dict[str, ExportedRecord]] = {}

    async def progress(self) -> BackfillProgress:
        async with self.sessions() as session:
            stored = await self._stored(session)
        return BackfillProgress(
            migration=self.migration,
            entities=[
                stored.get(entity, EntityProgress(entity=entity)) for entity in self.entities
            ],
        )

    async def restart(self) -> None:
        """Forget every checkpoint: the next run scans everything again (and, being
        idempotent, writes only what differs)."""
        async with self._running, self.sessions() as session, session.begin():
            await session.execute(
                delete(self.checkpoints).where(self.checkpoints.c.migration == self.migration)
            )
            self._set_aside.clear()

    async def run(self, max_pages: int | None = None) -> BackfillProgress:
        """Copy up to ``max_pages`` pages (all that is left when None); one caller at a time."""
        async with self._running:
            pages = 0
            while max_pages is None or pages < max_pages:
                if not await self._copy_next_page():
                    break
                pages += 1
        return await self.progress()

    async def _copy_next_page(self) -> bool:
        """Copy the next page of the first unfinished entity; False when all are finished.

        A record refused in its place is tried again after all the others; one refused there
        too is set aside for the next pages. Raises the ``ChangeRefused`` of a record still
        refused once the entity's last page is in.
        """
        current = next((p for p in (await self.progress()).entities if not p.finished), None)
        if current is None:
            return False
        page = await self.source.page(current.entity, current.cursor, self.page_size)
        set_aside = self._set_aside.setdefault(current.entity, {})
        candidates = {record.id: record for record in [*page.records, *set_aside.values()]}
        last_tried: dict[str, ChangeRefused] = {}
        refused: dict[str, ChangeRefused] = {}
        while True:
            in_place = [r for r in candidates.values() if r.id not in last_tried | refused]
            at_the_end = [r for r in candidates.values() if r.id in last_tried]
            try:
                await self._apply_page(current, page, [*in_place, *at_the_end], refused)
                break
            except _Refused as one:
                moved_to = refused if one.record.id in last_tried else last_tried
                last_tried.pop(one.record.id, None)
                moved_to[one.record.id] = one.refusal
        set_aside.clear()
        set_aside.update({key: candidates[key] for key in refused})
        if page.next_cursor is None and refused:
            raise next(iter(refused.values()))
        return True

    async def _apply_page(
        self,
        current: EntityProgress,
        page: ExportPage,
        records: list[ExportedRecord],
        refused: dict[str, ChangeRefused],
    ) -> None:
        """``records`` in ONE transaction with the checkpoint after ``page``; raising
        ``_Refused`` for the first one refused."""
        async with self.sessions() as session, session.begin():
            written = 0
            for record in records:
                try:
                    written += await self.sink(session, current.entity, record)
                except ChangeRefused as refusal:
                    raise _Refused(record, refusal) from None
            await self._save(
                session,
                EntityProgress(
                    entity=current.entity,
                    cursor=page.records[-1].id if page.records else current.cursor,
                    scanned=current.scanned + len(page.records),
                    written=current.written + written,
                    finished=page.next_cursor is None and not refused,
                    updated_at=utcnow(),
                ),
                exists=current.updated_at is not None,
            )

    async def _stored(self, session: AsyncSession) -> dict[str, EntityProgress]:
        table = self.checkpoints
        rows = (
            await session.execute(select(table).where(table.c.migration == self.migration))
        ).all()
        return {
            row.entity: EntityProgress.model_validate(row, from_attributes=True) for row in rows
        }

    async def _save(self, session: AsyncSession, progress: EntityProgress, *, exists: bool) -> None:
        table = self.checkpoints
        values: dict[str, Any] = {
            "cursor": progress.cursor,
            "scanned": progress.scanned,
            "written": progress.written,
            "finished": progress.finished,
            "updated_at": progress.updated_at,
        }
        if exists:
            await session.execute(
                update(table)
                .where(table.c.migration == self.migration, table.c.entity == progress.entity)
                .values(**values)
            )
        else:
            await session.execute(
                insert(table).values(migration=self.migration, entity=progress.entity, **values)
            )


class _Refused(Exception):
    """A record of the page was refused: the page's transaction is rolled back to retry it
    without that record (on PostgreSQL the failed statement aborted the transaction)."""

    def __init__(self, record: ExportedRecord, refusal: ChangeRefused) -> None:
        super().__init__(str(refusal))
        self.record = record
        self.refusal = refusal
