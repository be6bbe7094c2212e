"""The outbox relay: publishes committed events in order, marks them only once acknowledged.

One batch at a time, in ``position`` order; each row is sent with ``acks=all`` and marked
published only after the broker acknowledged it. When the broker is unreachable the relay
backs off and keeps trying: events accumulate in the outbox and drain when it is back.
Delivery is at least once (a crash between the acknowledgement and the mark re-sends);
consumers are idempotent by event id.

On PostgreSQL several relay instances may run: a transaction-scoped advisory lock lets one
of them publish at a time, so no row is published twice concurrently and per-key order holds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import Row, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from strangler_persistence import utcnow

from strangler_eventing.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISH_FAILURES,
    OUTBOX_PUBLISHED,
)
from strangler_eventing.stopping import stopped_within

__all__ = ["OutboxRelay", "RelaySettings", "outbox_backlog", "replay"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 500
    idle_seconds: float = 0.05
    send_timeout_seconds: float = 15.0
    max_backoff_seconds: float = 5.0
    retention: timedelta = field(default=timedelta(days=7))
    cleanup_every_seconds: float = 60.0
    metrics_every_seconds: float = 1.0


def _advisory_lock_id(table: Table) -> int:
    return zlib.crc32(f"strangler-outbox-relay:{table.name}".encode()) & 0x7FFFFFFF


class OutboxRelay:
    """Drains one outbox table to the broker. Run ``run()`` as a background task."""

    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        producer: AIOKafkaProducer,
        source: str,
        settings: RelaySettings | None = None,
    ) -> None:
        self.engine = engine
        self.table = table
        self.producer = producer
        self.source = source
        self.settings = settings or RelaySettings()
        self._lock_id = _advisory_lock_id(table)
        self._producer_started = False

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; never gives up on a broker outage, even at start.

        Owns the producer's lifecycle: starts it (retrying while the broker is away) and
        stops it on the way out.
        """
        try:
            await self._run(stop)
        finally:
            if self._producer_started:
                await self.producer.stop()

    async def _run(self, stop: asyncio.Event) -> None:
        failures = 0
        last_cleanup = 0.0
        last_metrics = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                if not self._producer_started:
                    await self.producer.start()
                    self._producer_started = True
                published = await self.publish_batch()
                failures = 0
            except Exception as exc:  # the broker or database is away; back off, keep going
                failures += 1
                OUTBOX_PUBLISH_FAILURES.labels(self.source).inc()
                delay = min(self.settings.max_backoff_seconds, 0.1 * 2**failures)
                logger.warning("outbox relay: %s; retrying in %.1fs", exc, delay)
                await stopped_within(stop, delay)
                continue
            if loop.time() - last_cleanup > self.settings.cleanup_every_seconds:
                last_cleanup = loop.time()
                await self._forget_old_published()
            if loop.time() - last_metrics > self.settings.metrics_every_seconds:
                last_metrics = loop.time()
                await self.update_metrics()
            if published == 0:
                await stopped_within(stop, self.settings.idle_seconds)

    async def publish_batch(self) -> int:
        """Publish the oldest unpublished events; returns how many the broker acknowledged."""
        async with self.engine.begin() as connection:
            if not await self._leading(connection):
                return 0
            rows = (
                await connection.execute(
                    select(self.table)
                    .where(self.table.c.published_at.is_(None))
                    .order_by(self.table.c.position)
                    .limit(self.settings.batch_size)
                )
            ).all()
            if not rows:
                return 0
            acknowledged, error = await self._send(rows)
            if acknowledged:
                await connection.execute(
                    update(self.table)
                    .where(self.table.c.position.in_(acknowledged))
                    .values(published_at=utcnow(), last_error=None)
                )
            if error is not None:
                failed = [row.position for row in rows if row.position not in set(acknowledged)]
                await connection.execute(
                    update(self.table)
                    .where(self.table.c.position.in_(failed))
                    .values(
                        publish_attempts=self.table.c.publish_attempts + 1, last_error=str(error)
                    )
                )
        OUTBOX_PUBLISHED.labels(self.source).inc(len(acknowledged))
        if error is not None:
            raise error
        return len(acknowledged)

    async def _send(self, rows: Sequence[Row[Any]]) -> tuple[list[int], Exception | None]:
        """Send every row, wait for the acknowledgements; returns those acknowledged."""
        pending: list[tuple[int, asyncio.Future[Any]]] = []
        error: Exception | None = None
        try:
            for row in rows:
                headers = [
                    (name, value.encode()) for name, value in json.loads(row.headers).items()
                ]
                future = await asyncio.wait_for(
                    self.producer.send(
                        row.topic,
                        value=row.payload.encode(),
                        key=row.key.encode(),
                        headers=headers,
                    ),
                    self.settings.send_timeout_seconds,
                )
                pending.append((row.position, future))
        except Exception as exc:
            error = exc
        acknowledged: list[int] = []
        for index, (position, future) in enumerate(pending):
            try:
                await asyncio.wait_for(future, self.settings.send_timeout_seconds)
            except Exception as exc:
                error = error or exc
                for _, unawaited in pending[index + 1 :]:  # they are sent again next batch
                    unawaited.add_done_callback(_discard_outcome)
                break  # later rows of the batch must not overtake this one
            acknowledged.append(position)
        return acknowledged, error

    async def _leading(self, connection: AsyncConnection) -> bool:
        if connection.dialect.name != "postgresql":
            return True
        return bool(await connection.scalar(select(func.pg_try_advisory_xact_lock(self._lock_id))))

    async def _forget_old_published(self) -> None:
        horizon = utcnow() - self.settings.retention
        async with self.engine.begin() as connection:
            await connection.execute(
                delete(self.table).where(
                    self.table.c.published_at.is_not(None), self.table.c.published_at < horizon
                )
            )

    async def update_metrics(self) -> None:
        count, oldest = await outbox_backlog(self.engine, self.table)
        OUTBOX_BACKLOG.labels(self.source).set(count)
        OUTBOX_OLDEST_AGE.labels(self.source).set(
            (utcnow() - oldest).total_seconds() if oldest is not None else 0
        )


async def outbox_backlog(engine: AsyncEngine, table: Table) -> tuple[int, datetime | None]:
    """How many events wait for the broker, and when the oldest of them was recorded."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(func.count(), func.min(table.c.created_at)).where(
                    table.c.published_at.is_(None)
                )
            )
        ).one()
    count, oldest = row
    if oldest is not None and oldest.tzinfo is None:  # aggregates bypass the column type
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), oldest


async def replay(
    engine: AsyncEngine, table: Table, since: datetime, until: datetime | None = None
) -> int:
    """Mark the events recorded in [since, until) unpublished, so the relay sends them again.

    Used after the broker lost its log; consumers recognise the repeats by event id.
    """
    condition = table.c.created_at >= since
    if until is not None:
        condition = condition & (table.c.created_at < until)
    async with engine.begin() as connection:
        result = await connection.execute(update(table).where(condition).values(published_at=None))
    return int(result.rowcount)


def _discard_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
