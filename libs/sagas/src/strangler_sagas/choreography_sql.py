"""What an observer of choreographies has seen, kept in its own database, and the views built
on it.

``choreography_events_table(metadata)`` adds one table to the observer's metadata (so its
migrations create it): one row per event of a choreography, with its correlation id. The
observer's consumer calls ``ChoreographyLog.record`` inside the transaction that marks the
event processed (the idempotent consumer's inbox), so each event is kept once however often
it is delivered. ``ChoreographyViews`` answers the read side: the latest choreographies,
or one, each reconstructed from its events when asked (``choreography.reconstruct``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_persistence import SessionFactory, UTCDateTime, utcnow

from strangler_sagas.choreography import (
    ChoreographyDefinition,
    ChoreographyView,
    SeenEvent,
    reconstruct,
)

__all__ = ["ChoreographyLog", "ChoreographyViews", "choreography_events_table"]


def choreography_events_table(metadata: MetaData, name: str = "choreography_events") -> Table:
    """One row per event of a choreography; ``position`` orders them as they were recorded."""
    return Table(
        name,
        metadata,
        Column(
            "position",
            BigInteger().with_variant(Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("correlation_id", String(200), nullable=False),
        Column("choreography", String(100), nullable=False),
        Column("name", String(200), nullable=False),
        Column("source", String(200), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("occurred_at", UTCDateTime(), nullable=False),
        Column("recorded_at", UTCDateTime(), nullable=False),
        Column("data", JSON, nullable=False),
        Index(f"ix_{name}_correlation_id", "correlation_id", "position"),
        Index(f"ix_{name}_choreography", "choreography", "position"),
    )


class ChoreographyLog:
    """The events seen, written in the consumer's transaction and read back by correlation."""

    def __init__(self, sessions: SessionFactory, table: Table) -> None:
        self._sessions = sessions
        self._table = table

    async def record(
        self, session: AsyncSession, choreography: ChoreographyDefinition, seen: SeenEvent
    ) -> None:
        """Keep ``seen`` in ``session``'s transaction (the one marking it processed), without
        the fields the choreography calls personal."""
        kept = {key: value for key, value in seen.data.items() if key not in choreography.personal}
        await session.execute(
            insert(self._table).values(
                event_id=seen.event_id,
                correlation_id=seen.correlation_id,
                choreography=choreography.name,
                name=seen.name,
                source=seen.source,
                subject=seen.subject,
                occurred_at=seen.occurred_at,
                recorded_at=utcnow(),
                data=kept,
            )
        )

    async def latest(self, limit: int) -> list[tuple[str, list[SeenEvent]]]:
        """The ``limit`` choreographies that heard of something last, latest first, each as
        ``(type, events)``."""
        c = self._table.c
        last = func.max(c.position)
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(c.correlation_id)
                    .group_by(c.correlation_id)
                    .order_by(last.desc())
                    .limit(limit)
                )
            )
            if not ids:
                return []
            rows = await session.execute(
                select(self._table).where(c.correlation_id.in_(ids)).order_by(c.position)
            )
            grouped = _grouped(rows)
        return [grouped[correlation_id] for correlation_id in ids if correlation_id in grouped]

    async def of(self, correlation_id: str) -> tuple[str, list[SeenEvent]] | None:
        c = self._table.c
        async with self._sessions() as session:
            rows = await session.execute(
                select(self._table).where(c.correlation_id == correlation_id).order_by(c.position)
            )
            return _grouped(rows).get(correlation_id)


def _grouped(rows: Iterable[Row[Any]]) -> dict[str, tuple[str, list[SeenEvent]]]:
    grouped: dict[str, tuple[str, list[SeenEvent]]] = {}
    for row in rows:
        _, events = grouped.setdefault(row.correlation_id, (row.choreography, []))
        events.append(
            SeenEvent(
                correlation_id=row.correlation_id,
                event_id=row.event_id,
                name=row.name,
                source=row.source,
                subject=row.subject,
                occurred_at=row.occurred_at,
                data=dict(row.data),
            )
        )
    return grouped


class ChoreographyViews:
    """Choreographies as they stand now, from the log and the definitions."""

    def __init__(
        self,
        log: ChoreographyLog,
        definitions: Sequence[ChoreographyDefinition],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._log = log
        self._definitions = {definition.name: definition for definition in definitions}
        self._clock = clock

    @property
    def definitions(self) -> list[ChoreographyDefinition]:
        return list(self._definitions.values())

    async def recent(self, limit: int) -> list[ChoreographyView]:
        now = self._clock()
        found = [self._view(kind, events, now) for kind, events in await self._log.latest(limit)]
        return [view for view in found if view is not None]

    async def view(self, correlation_id: str) -> ChoreographyView | None:
        found = await self._log.of(correlation_id)
        return None if found is None else self._view(*found, self._clock())

    def _view(self, kind: str, events: list[SeenEvent], now: datetime) -> ChoreographyView | None:
        definition = self._definitions.get(kind)
        return None if definition is None else reconstruct(definition, events, now)
