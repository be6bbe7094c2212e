"""The eventing mechanism on a fresh PostgreSQL database and the session's embedded broker.

Every test gets a database holding an outbox, an inbox and an ``effects`` table its handler
writes one row to per application of an event (no unique constraint: applying an event twice
shows as two rows). The broker is shared by the session, so a test tags the aggregates of its
events and its handler only acts on those: whatever other tests left on the topics passes by.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from embedded_broker import EmbeddedBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from strangler_contracts import CloudEvent, IntegrationEvent, UserRegistered
from strangler_eventing import (
    BrokerConfig,
    ConsumerSettings,
    IdempotentConsumer,
    Outbox,
    OutboxRelay,
    RelaySettings,
    configure_tracing,
    create_consumer,
    create_producer,
    inbox_table,
    outbox_backlog,
    outbox_table,
)
from strangler_persistence import SessionFactory, create_engine, create_session_factory

from tests.integration.conftest import FreshDatabase
from tests.support.broker_records import event_id_in
from tests.support.polling import eventually

WAIT_SECONDS = 45.0
POLL_SECONDS = 0.05

FAST_RELAY = RelaySettings(idle_seconds=0.02, send_timeout_seconds=3.0, max_backoff_seconds=0.5)
FAST_CONSUMER = ConsumerSettings(
    max_attempts=3,
    first_backoff_seconds=0.02,
    max_backoff_seconds=0.1,
    commit_timeout_seconds=2.0,
    poll_timeout_ms=100,
)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
Condition = Callable[[], Awaitable[bool]]
ProcessedHook = Callable[[ConsumerRecord[bytes, bytes], str], Awaitable[None]]


def user_registered(user_id: str, sequence: int = 0) -> UserRegistered:
    """An event on ``strangler.accounts`` keyed by ``user_id``; ``sequence`` tells copies apart."""
    return UserRegistered(
        user_id=user_id,
        email=f"{user_id}@example.com",
        display_name=f"User #{sequence}",
        registered_at=datetime.now(UTC),
    )


@dataclass
class EventingDatabase:
    """One test's database: the outbox it records into and the tables its consumer writes."""

    tag: str
    engine: AsyncEngine
    sessions: SessionFactory
    outbox: Outbox
    inbox: Table
    effects: Table

    @property
    def outbox_table(self) -> Table:
        return self.outbox.table

    @property
    def source(self) -> str:
        return self.outbox.source

    def new_aggregate_id(self) -> str:
        """An aggregate id of this test's own; the handler acts only on these."""
        return f"{self.tag}-{uuid.uuid4().hex[:8]}"

    def owns(self, envelope: CloudEvent) -> bool:
        return envelope.subject.startswith(f"{self.tag}-")

    async def record(
        self, *events: IntegrationEvent, occurred_at: datetime | None = None
    ) -> list[CloudEvent]:
        """Record ``events`` in one committed transaction."""
        async with self.sessions() as session, session.begin():
            return [
                await self.outbox.record(session, event, occurred_at=occurred_at)
                for event in events
            ]

    async def record_and_roll_back(self, event: IntegrationEvent) -> CloudEvent:
        async with self.sessions() as session:
            recorded = await self.outbox.record(session, event)
            await session.rollback()
        return recorded

    async def backlog(self) -> int:
        count, _ = await outbox_backlog(self.engine, self.outbox_table)
        return count

    async def effect_counts(self) -> Counter[str]:
        """How many effects rows each event id has: 1 is right, 2 is a double application."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(self.effects.c.event_id))
            return Counter(event_id for (event_id,) in rows)

    async def effects_in_order(self) -> list[tuple[str, str]]:
        """``(subject, event_id)`` of every effect, in the order the consumer applied them."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(self.effects.c.subject, self.effects.c.event_id).order_by(
                    self.effects.c.applied
                )
            )
            return [(subject, event_id) for subject, event_id in rows]

    async def have_effects(self, event_ids: Iterable[str]) -> bool:
        counts = await self.effect_counts()
        return all(counts[event_id] > 0 for event_id in event_ids)

    async def outbox_rows(self) -> dict[str, datetime | None]:
        """``published_at`` of every outbox row, by event id."""
        table = self.outbox_table
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(table.c.event_id, table.c.published_at))
            return {event_id: published_at for event_id, published_at in rows}

    async def mark_published(self, event_ids: Iterable[str], at: datetime) -> None:
        table = self.outbox_table
        async with self.engine.begin() as connection:
            await connection.execute(
                update(table).where(table.c.event_id.in_(list(event_ids))).values(published_at=at)
            )


@pytest.fixture
def tag() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def database(fresh_database: FreshDatabase, tag: str) -> AsyncIterator[EventingDatabase]:
    metadata = MetaData()
    outbox = Outbox(outbox_table(metadata), source=f"/tests/eventing/{tag}")
    inbox = inbox_table(metadata)
    effects = Table(
        "effects",
        metadata,
        Column("applied", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False),
        Column("subject", String(200), nullable=False),
    )
    engine = create_engine(await fresh_database("eventing"))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield EventingDatabase(tag, engine, create_session_factory(engine), outbox, inbox, effects)
    await engine.dispose()


class ApplyEffects:
    """The handler under test: one effects row per application of one of the test's events.

    Events whose id is in ``failing`` raise instead, as a handler with a bug would.
    """

    def __init__(self, database: EventingDatabase) -> None:
        self.database = database
        self.failing: set[str] = set()

    async def __call__(self, session: AsyncSession, event: Any, envelope: CloudEvent) -> None:
        if not self.database.owns(envelope):
            return
        if envelope.id in self.failing:
            raise RuntimeError(f"the handler cannot apply {envelope.id}")
        await session.execute(
            insert(self.database.effects).values(event_id=envelope.id, subject=envelope.subject)
        )


@dataclass
class Outcomes:
    """What a consumer reported for every message it finished (its ``on_processed`` hook)."""

    seen: list[tuple[ConsumerRecord[bytes, bytes], str]] = field(default_factory=list)

    async def __call__(self, record: ConsumerRecord[bytes, bytes], outcome: str) -> None:
        self.seen.append((record, outcome))

    def of(self, event_id: str) -> list[str]:
        return [outcome for record, outcome in self.seen if event_id_in(record.value) == event_id]

    def records_of(self, event_id: str) -> list[ConsumerRecord[bytes, bytes]]:
        return [record for record, _ in self.seen if event_id_in(record.value) == event_id]

    def event_ids(self, outcome: str) -> set[str]:
        return {
            event_id
            for record, seen_outcome in self.seen
            if seen_outcome == outcome and (event_id := event_id_in(record.value)) is not None
        }

    def for_key(self, key: str) -> list[str]:
        return [outcome for record, outcome in self.seen if record.key == key.encode()]


@dataclass
class Running:
    """One mechanism loop running as a task until ``stop`` is set."""

    name: str
    stop_event: asyncio.Event
    task: asyncio.Task[None]

    async def stop(self, within: float = WAIT_SECONDS) -> None:
        """Ask the loop to stop, wait for it, and re-raise whatever it failed with."""
        self.stop_event.set()
        done, _ = await asyncio.wait({self.task}, timeout=within)
        if not done:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
            raise AssertionError(f"{self.name} did not stop within {within:g} s")
        self.task.result()


class EventPath:
    """The relays and consumers of one test, on the session's broker, stopped when it ends."""

    def __init__(self, broker: EmbeddedBroker) -> None:
        self.config = BrokerConfig(bootstrap_servers=broker.bootstrap_servers)
        self.loops: list[Running] = []
        self.producers: list[AIOKafkaProducer] = []

    def start(self, name: str, loop: Loop) -> Running:
        stop = asyncio.Event()
        running = Running(name, stop, asyncio.create_task(loop(stop), name=name))
        self.loops.append(running)
        return running

    def relay(
        self, database: EventingDatabase, settings: RelaySettings = FAST_RELAY
    ) -> OutboxRelay:
        """A relay of the test's outbox with a producer of its own (which it starts itself)."""
        return OutboxRelay(
            database.engine,
            database.outbox_table,
            create_producer(self.config),
            database.source,
            settings,
        )

    def start_relay(
        self, database: EventingDatabase, settings: RelaySettings = FAST_RELAY
    ) -> tuple[OutboxRelay, Running]:
        relay = self.relay(database, settings)
        return relay, self.start(f"relay {len(self.loops)}", relay.run)

    async def started_producer(self) -> AIOKafkaProducer:
        producer = create_producer(self.config)
        await producer.start()
        self.producers.append(producer)
        return producer

    async def start_consumer(
        self,
        database: EventingDatabase,
        handler: ApplyEffects,
        *,
        group: str | None = None,
        on_processed: ProcessedHook | None = None,
        settings: ConsumerSettings = FAST_CONSUMER,
        waits_for: tuple[type[Exception], ...] = (),
    ) -> tuple[IdempotentConsumer, Running]:
        """A consumer of ``strangler.accounts``, by default as a group of the test's own."""
        consumer = IdempotentConsumer(
            broker=self.config,
            group_id=group or f"{database.tag}-consumer",
            handlers={UserRegistered: handler},
            sessions=database.sessions,
            inbox=database.inbox,
            producer=await self.started_producer(),
            settings=settings,
            on_processed=on_processed,
            waits_for=waits_for,
        )
        return consumer, self.start(f"consumer {consumer.group_id}", consumer.run)

    async def ended(self, running: Running, within: float = WAIT_SECONDS) -> BaseException | None:
        """Wait for a loop expected to end by itself; answers what it ended with."""
        done, _ = await asyncio.wait({running.task}, timeout=within)
        if not done:
            raise AssertionError(f"{running.name} did not end within {within:g} s")
        running.stop_event.set()
        return running.task.exception()

    async def until(self, condition: Condition, what: str, within: float = WAIT_SECONDS) -> None:
        """Poll ``condition`` until it holds; fail if it does not in time or a loop died."""

        async def holds_while_every_loop_runs() -> bool:
            for running in self.loops:
                if running.task.done() and not running.stop_event.is_set():
                    running.task.result()
                    raise AssertionError(f"{running.name} ended while waiting until {what}")
            return await condition()

        await eventually(holds_while_every_loop_runs, what, within, POLL_SECONDS)

    async def close(self) -> None:
        for running in self.loops:
            running.stop_event.set()
        for running in self.loops:
            done, _ = await asyncio.wait({running.task}, timeout=WAIT_SECONDS)
            if not done:
                running.task.cancel()
            with contextlib.suppress(BaseException):
                await running.task
        for producer in self.producers:
            await producer.stop()


@pytest.fixture
async def event_path(
    broker: EmbeddedBroker, database: EventingDatabase
) -> AsyncIterator[EventPath]:
    """Stopped before the database goes away (it depends on it for that reason alone)."""
    path = EventPath(broker)
    try:
        yield path
    finally:
        await path.close()


async def records_on(
    config: BrokerConfig, topic: str, within: float = WAIT_SECONDS
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on ``topic``, read without a group from the start to the high-watermark."""
    consumer = create_consumer(config, None)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            batches = await consumer.getmany(*partitions, timeout_ms=200)
            records.extend(record for batch in batches.values() for record in batch)
            ends = [consumer.highwater(tp) for tp in partitions]
            positions = [await consumer.position(tp) for tp in partitions]
            if None not in ends and positions == ends:
                return records
        raise AssertionError(f"could not read {topic} to its end within {within:g} s")
    finally:
        await consumer.stop()


@pytest.fixture(scope="package")
def span_exporter() -> Iterator[InMemorySpanExporter]:
    """Every span the process ends while these tests run, kept in memory.

    A tracer provider can be installed once per process: the library's own
    ``configure_tracing`` installs one unless a deployable did already, and the exporter is
    added to whichever is in place (and shut down, so it keeps nothing, after these tests).
    """
    configure_tracing("eventing-integration-tests")
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    span_exporter.clear()
    yield span_exporter
    span_exporter.clear()
