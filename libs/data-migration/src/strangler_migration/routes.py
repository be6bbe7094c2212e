"""The data-migration endpoints every side serves, outside ``/api`` (the gateway does not
route them: they are for the other side and for operators, on the internal network).

``GET  {prefix}/export/{entity}?after=&limit=``  keyset pages in id order (limit 0: total)
``GET  {prefix}/checksums/{entity}``             every record's stamp and content checksum
``POST {prefix}/records/{entity}`` ``{"ids"}``   those records in full, to show what differs
``GET  {prefix}/counts``                         records per entity
``GET  {prefix}/sync``                           the consumer applying the other side's changes
"""

# No `from __future__ import annotations` here: FastAPI must see the dependency aliases the
# router factories define, not their names as strings.
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query
from http_platform import Problem
from http_platform.openapi import problem_responses
from pydantic import BaseModel

from strangler_migration.applying import ChangeRefused, MissingRecord
from strangler_migration.backfill import Backfill, BackfillProgress, ExportUnavailable
from strangler_migration.sync import SyncConsumer
from strangler_migration.tables import SqlRecords, UnknownEntity
from strangler_migration.wire import (
    BACKFILL_PAGE_REFUSED,
    EXPORT_UNAVAILABLE,
    SYNC_NOT_RUNNING,
    UNKNOWN_ENTITY,
    EntityChecksums,
    EntityCounts,
    ExportPage,
    RecordLookup,
    RecordsFound,
    SyncStatus,
)

__all__ = ["MAX_EXPORT_PAGE", "MigrationStatus", "backfill_router", "records_router"]

MAX_EXPORT_PAGE = 1000

T = TypeVar("T")


def records_router(
    prefix: str,
    *,
    records: Callable[[], SqlRecords],
    sync: Callable[[], SyncConsumer | None],
) -> APIRouter:
    """The endpoints over the ``SqlRecords`` that ``records()`` answers, and the status of
    the ``SyncConsumer`` that ``sync()`` answers (None: this process does not sync): both
    read from the app's composition root. Include it with the operator token required."""
    router = APIRouter(prefix=prefix, tags=["data migration"])
    Records = Annotated[SqlRecords, Depends(_async(records))]
    Sync = Annotated[SyncConsumer | None, Depends(_async(sync))]

    @router.get("/export/{entity}")
    async def export(
        entity: str,
        source: Records,
        after: Annotated[str | None, Query(description="The cursor of the previous page")] = None,
        limit: Annotated[int, Query(ge=0, le=MAX_EXPORT_PAGE)] = 100,
    ) -> ExportPage:
        """One page of an entity's records, after ``after``, in id order."""
        with _known_entity():
            return await source.export_page(entity, after, limit)

    @router.get("/checksums/{entity}")
    async def checksums(entity: str, source: Records) -> EntityChecksums:
        """Every record of the entity as its id, version, origin and content checksum."""
        with _known_entity():
            return await source.checksums(entity)

    @router.post("/records/{entity}")
    async def lookup(entity: str, body: RecordLookup, source: Records) -> RecordsFound:
        """The records of those ids this side holds, in full."""
        with _known_entity():
            return RecordsFound(entity=entity, records=await source.lookup(entity, body.ids))

    @router.get("/counts")
    async def counts(source: Records) -> EntityCounts:
        """How many records of each entity this side holds."""
        return EntityCounts(counts=await source.counts())

    # 404 (sync-not-running) when this process does not sync: documented, as it is answered.
    @router.get("/sync", responses=problem_responses(404))
    async def sync_status(consumer: Sync) -> SyncStatus:
        """How the other side's changes are being applied here: events, lag, the last one."""
        if consumer is None:
            raise Problem(
                SYNC_NOT_RUNNING,
                "This process does not apply the other side's changes (its sync setting is off).",
            )
        return consumer.status()

    return router


def _async(provide: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    """``provide`` as an async dependency: FastAPI runs a plain function in a thread."""

    async def provided() -> T:
        return provide()

    return provided


@contextmanager
def _known_entity() -> Iterator[None]:
    try:
        yield
    except UnknownEntity as unknown:
        raise Problem(UNKNOWN_ENTITY, str(unknown)) from unknown


class MigrationStatus(BaseModel):
    backfill: BackfillProgress
    sync: SyncStatus | None


def backfill_router(
    prefix: str,
    *,
    backfill: Callable[[], Backfill],
    sync: Callable[[], SyncConsumer | None],
) -> APIRouter:
    """The receiving side's endpoints over the ``Backfill`` that ``backfill()`` answers: its
    progress and steps, with the sync's status (``sync()``).

    ``GET  {prefix}``                                 backfill progress per entity, and sync
    ``POST {prefix}/backfill?pages=N&restart=false``  copy up to N pages, then answer progress

    The caller drives the backfill a few pages at a time, so every answer is quick and a
    caller that stops (Ctrl-C) leaves a checkpoint, not a half-done request.
    """
    router = APIRouter(prefix=prefix, tags=["data migration"])
    Running = Annotated[Backfill, Depends(_async(backfill))]
    Sync = Annotated[SyncConsumer | None, Depends(_async(sync))]

    @router.get("")
    async def status(running: Running, consumer: Sync) -> MigrationStatus:
        """How far the backfill got, entity by entity, and how the sync is doing."""
        return MigrationStatus(
            backfill=await running.progress(),
            sync=None if consumer is None else consumer.status(),
        )

    @router.post("/backfill")
    async def step(
        running: Running,
        pages: Annotated[int, Query(ge=1, le=1000)] = 1,
        restart: Annotated[bool, Query(description="Forget the checkpoints first")] = False,
    ) -> BackfillProgress:
        """Copy up to ``pages`` more pages from the other side; answer the progress."""
        if restart:
            await running.restart()
        try:
            return await running.run(max_pages=pages)
        except (ChangeRefused, MissingRecord) as refused:
            raise Problem(BACKFILL_PAGE_REFUSED, str(refused)) from refused
        except ExportUnavailable as unavailable:
            raise Problem(EXPORT_UNAVAILABLE, str(unavailable)) from unavailable

    return router
