"""The transactional outbox: an event is a row written in the same transaction as the change.

Nothing talks to the broker while a request runs; the relay publishes committed rows later.
If the transaction rolls back, the event never existed. Once it commits, the relay is woken
(``commit_signal``: a NOTIFY on PostgreSQL, in-process too), so it need not poll for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import CloudEvent, IntegrationEvent, encode
from strangler_persistence import UTCDateTime

from strangler_eventing.commit_signal import announce_commit
from strangler_eventing.correlation import correlation_id
from strangler_eventing.tracing import current_trace_headers

__all__ = ["Outbox", "outbox_table"]


def outbox_table(metadata: MetaData, name: str = "outbox") -> Table:
    """The outbox table, added to a deployable's own metadata (and so to its migrations).

    ``position`` orders events as they were committed; the relay publishes in that order.
    """
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
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", Text, nullable=False),
        Column("headers", Text, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("published_at", UTCDateTime(), nullable=True),
        Column("publish_attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        Index(f"ix_{name}_unpublished", "published_at", "position"),
        Index(f"ix_{name}_created_at", "created_at"),
    )


@dataclass(frozen=True)
class Outbox:
    """Records integration events of one producer (``source``) into its outbox table."""

    table: Table
    source: str
    _insert: Insert = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once: a statement made per event would cost its construction and cache
        # key in every writer's transaction.
        object.__setattr__(self, "_insert", insert(self.table))

    async def record(
        self,
        session: AsyncSession,
        event: IntegrationEvent,
        *,
        causation_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> CloudEvent:
        """Add ``event`` to the session's transaction; it is published only if that commits."""
        cloud_event = encode(
            event,
            source=self.source,
            correlation_id=correlation_id(),
            causation_id=causation_id,
            time=occurred_at,
        )
        headers = {**current_trace_headers(), "ce_type": cloud_event.type}
        await session.execute(
            self._insert,
            {
                "event_id": cloud_event.id,
                "topic": event.topic,
                "key": cloud_event.subject,
                "event_type": cloud_event.type,
                "payload": cloud_event.model_dump_json(),
                "headers": json.dumps(headers, sort_keys=True),
                "created_at": cloud_event.time,
                "publish_attempts": 0,
            },
        )
        await announce_commit(session, self.table)
        return cloud_event
