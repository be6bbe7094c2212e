"""The outbox relay: publishes committed events in order, marks them only once acknowledged.

One batch at a time, in ``position`` order; each row is sent with ``acks=all`` and marked
published only after the broker acknowledged it. When the broker is unreachable the relay
backs off and keeps trying: events accumulate in the outbox and drain when it is back.

Between batches it does not poll every few milliseconds: a committed event wakes it
(``commit_signal``: LISTEN/NOTIFY on PostgreSQL, an in-process doorbell everywhere). After a
batch that was not full it reads again only once woken, not at once to find nothing: when
events trickle in one or two at a time, that empty read was a transaction per batch. It
still reads the outbox every ``idle_seconds`` while it cannot LISTEN (SQLite, whose writers
in other processes only polling sees; a lost LISTEN connection), and every
``listening_poll_seconds`` while it can, in case a notification was lost.

Delivery is at least once (a crash between the acknowledgement and the mark re-sends);
consumers are idempotent by event id.

On PostgreSQL several relay instances may run: a transaction-scoped advisory lock lets one
of them publish at a time, so no row is published twice concurrently and per-key order holds.

The broker's log is not the record, the outbox is. A broker that loses its log (the embedded
one keeps it in memory) is noticed in two ways: its cluster id changes (each start of the
embedded broker has its own), checked before every batch; or a partition's offsets go
backwards (an offset acknowledged that is not above the last one), checked on every
acknowledgement. Either way the relay marks every event the outbox still holds from the
``republish_window`` unpublished, and publishes them again, oldest first, before anything
newer: consumers skip what they had already applied, and apply what the lost log held.
Before that it creates the topics on the new broker (``create_topics_through``): published
into a topic the broker is still making, acknowledged events were seen missing afterwards.
The new cluster id is remembered only once the republishing is committed, so a relay that
fails half way notices the loss again on its next try.
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

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.protocol.metadata import MetadataRequest
from local_processes import stopped_within
from sqlalchemy import ColumnElement, Row, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from strangler_contracts import ALL_TOPICS, TopicSpec
from strangler_persistence import utcnow

from strangler_eventing.commit_signal import CommitSignal, lead
from strangler_eventing.kafka import create_topics_through, stop_client
from strangler_eventing.metrics import (
    BROKER_LOG_LOSSES,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISH_FAILURES,
    OUTBOX_PUBLISHED,
)

__all__ = ["OutboxRelay", "RelaySettings", "outbox_backlog", "replay"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 500
    idle_seconds: float = 0.05
    """How often an idle relay reads the outbox while nothing can wake it (no LISTEN)."""
    listening_poll_seconds: float = 1.0
    """How often it does while a LISTEN wakes it: only a safety net for a lost notification."""
    send_timeout_seconds: float = 15.0
    max_backoff_seconds: float = 5.0
    retention: timedelta = field(default=timedelta(days=7))
    cleanup_every_seconds: float = 60.0
    metrics_every_seconds: float = 1.0
    broker_check_every_seconds: float = 1.0
    republish_window: timedelta | None = None
    """How far back to publish again after a lost log; None: all the outbox still holds."""


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
        topics: Sequence[TopicSpec] = ALL_TOPICS,
    ) -> None:
        """``topics``: what to create on a broker found to have lost its log, before
        publishing there again."""
        self.engine = engine
        self.table = table
        self.producer = producer
        self.source = source
        self.settings = settings or RelaySettings()
        self.topics = tuple(topics)
        self._lock_id = _advisory_lock_id(table)
        self._producer_started = False
        self._cluster_id: str | None = None
        self._last_broker_check = float("-inf")
        self._acknowledged_up_to: dict[TopicPartition, int] = {}
        self._offsets_went_back = False
        self._signal = CommitSignal(engine, table)
        self._leads = False

    @property
    def commit_signal(self) -> CommitSignal:
        """What wakes it between batches."""
        return self._signal

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; never gives up on a broker outage, even at start.

        Owns the producer's lifecycle: starts it (retrying while the broker is away) and
        stops it on the way out.
        """
        await self._signal.start()
        try:
            await self._run(stop)
        finally:
            self._lead(False)
            await self._signal.close()
            if self._producer_started:
                await stop_client(self.producer)

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
                self._signal.clear()
                published = await self.publish_batch()
                failures = 0
            except Exception as exc:  # the broker or database is away; back off, keep going
                failures += 1
                OUTBOX_PUBLISH_FAILURES.labels(self.source).inc()
                # The exponent bounded: past 1024 failures (85 min away at 5 s) 2**failures
                # overflowed a float and the relay died of its own backoff.
                delay = min(self.settings.max_backoff_seconds, 0.1 * 2 ** min(failures, 30))
                logger.warning("outbox relay: %s; retrying in %.1fs", exc, delay)
                await stopped_within(stop, delay)
                continue
            if loop.time() - last_cleanup > self.settings.cleanup_every_seconds:
                last_cleanup = loop.time()
                await self._forget_old_published()
            if loop.time() - last_metrics > self.settings.metrics_every_seconds:
                last_metrics = loop.time()
                await self.update_metrics()
            if published < self.settings.batch_size:
                # It read everything committed before the batch began (the signal was
                # cleared before): it reads again at once only if a commit rang since.
                await self._signal.wait(stop, self._idle_wait())

    def _idle_wait(self) -> float:
        if self._signal.listening:
            return self.settings.listening_poll_seconds
        return self.settings.idle_seconds

    async def publish_batch(self) -> int:
        """Publish the oldest unpublished events; returns how many the broker acknowledged.

        If the broker lost its log since the last batch, everything the outbox holds from
        the ``republish_window`` is made unpublished first, so it goes out again in order.
        """
        new_cluster_id: str | None = None
        async with self.engine.begin() as connection:
            if not await self._leading(connection):
                return 0
            rows = await self._oldest_unpublished(connection)
            if rows or self._broker_check_due():
                lost, new_cluster_id = await self._broker_lost_its_log()
                if lost:
                    await create_topics_through(
                        self.producer, self.topics, self.settings.send_timeout_seconds
                    )
                    await self._mark_for_republishing(connection)
                    rows = await self._oldest_unpublished(connection)
            if not rows:
                self._remember(new_cluster_id)
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
        self._remember(new_cluster_id)
        OUTBOX_PUBLISHED.labels(self.source).inc(len(acknowledged))
        if error is not None:
            raise error
        return len(acknowledged)

    async def _oldest_unpublished(self, connection: AsyncConnection) -> Sequence[Row[Any]]:
        return (
            await connection.execute(
                select(self.table)
                .where(self.table.c.published_at.is_(None))
                .order_by(self.table.c.position)
                .limit(self.settings.batch_size)
            )
        ).all()

    def _broker_check_due(self) -> bool:
        loop = asyncio.get_running_loop()
        return loop.time() - self._last_broker_check >= self.settings.broker_check_every_seconds

    def _remember(self, cluster_id: str | None) -> None:
        """Take ``cluster_id`` as the broker's, once what its discovery required is committed."""
        if cluster_id is not None:
            self._cluster_id = cluster_id

    async def _broker_lost_its_log(self) -> tuple[bool, str | None]:
        """Whether the broker is a new one (another cluster id) or its offsets went back, and
        the cluster id it has now (to ``_remember`` once the transaction is committed).

        Raises when the broker cannot say: nothing is sent until it can.
        """
        self._last_broker_check = asyncio.get_running_loop().time()
        cluster_id = await self._cluster_id_now()
        previous = self._cluster_id
        if previous is None:
            self._remember(cluster_id)
        changed = previous is not None and cluster_id is not None and cluster_id != previous
        lost = changed or self._offsets_went_back
        if lost:
            reason = (
                f"the broker's cluster id changed ({previous} → {cluster_id})"
                if changed
                else "the broker's offsets went backwards"
            )
            logger.warning("outbox relay %s: %s: its log is lost", self.source, reason)
        return lost, cluster_id

    async def _cluster_id_now(self) -> str | None:
        client = self.producer.client
        brokers = client.cluster.brokers()
        if not brokers:
            return None
        node_id = min(broker.nodeId for broker in brokers)
        response = await asyncio.wait_for(
            client.send(node_id, MetadataRequest([])), self.settings.send_timeout_seconds
        )
        cluster_id = getattr(response, "cluster_id", None)
        return cluster_id if isinstance(cluster_id, str) else None

    async def _mark_for_republishing(self, connection: AsyncConnection) -> None:
        condition: ColumnElement[bool] = self.table.c.published_at.is_not(None)
        if self.settings.republish_window is not None:
            horizon = utcnow() - self.settings.republish_window
            condition = condition & (self.table.c.created_at >= horizon)
        result = await connection.execute(
            update(self.table).where(condition).values(published_at=None)
        )
        self._acknowledged_up_to.clear()
        self._offsets_went_back = False
        BROKER_LOG_LOSSES.labels(self.source).inc()
        logger.warning(
            "outbox relay %s: publishing %d events again, oldest first",
            self.source,
            result.rowcount,
        )

    def _acknowledged(self, tp: TopicPartition, offset: int) -> None:
        if offset <= self._acknowledged_up_to.get(tp, -1):  # no offset is acknowledged twice
            self._offsets_went_back = True
        self._acknowledged_up_to[tp] = max(offset, self._acknowledged_up_to.get(tp, -1))

    async def _send(self, rows: Sequence[Row[Any]]) -> tuple[list[int], Exception | None]:
        """Send every row, wait for the acknowledgements; returns those acknowledged."""
        pending: list[tuple[int, asyncio.Future[Any]]] = []
        error: Exception | None = None
        try:
            for row in rows:
                headers = [
                    (name, value.encode()) for name, value in json.loads(row.headers).items()
                ]
                async with asyncio.timeout(self.settings.send_timeout_seconds):  # no task each
                    future = await self.producer.send(
                        row.topic,
                        value=row.payload.encode(),
                        key=row.key.encode(),
                        headers=headers,
                    )
                pending.append((row.position, future))
        except Exception as exc:
            error = exc
        acknowledged: list[int] = []
        for index, (position, future) in enumerate(pending):
            try:
                metadata = await asyncio.wait_for(future, self.settings.send_timeout_seconds)
            except Exception as exc:
                error = error or exc
                for _, unawaited in pending[index + 1 :]:  # they are sent again next batch
                    unawaited.add_done_callback(_discard_outcome)
                break  # later rows of the batch must not overtake this one
            self._acknowledged(metadata.topic_partition, metadata.offset)
            acknowledged.append(position)
        return acknowledged, error

    async def _leading(self, connection: AsyncConnection) -> bool:
        if connection.dialect.name != "postgresql":
            return True
        leading = bool(
            await connection.scalar(select(func.pg_try_advisory_xact_lock(self._lock_id)))
        )
        self._lead(leading)
        return leading

    def _lead(self, leading: bool) -> None:
        """Tell this process's writers whether this relay publishes their outbox, so they
        need not NOTIFY the relays of other processes (``commit_signal.lead``)."""
        if leading != self._leads:
            self._leads = leading
            lead(self.table, self.engine.sync_engine, leading)

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
