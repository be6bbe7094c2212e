"""The idempotent consumer: each event applied exactly once in effect, failures dead-lettered.

For every message, in partition order: decode the CloudEvent (malformed, unknown type or
invalid data → dead letter at once, with the reason); then, in ONE database transaction, skip
it if this group already processed its event id, else run the handler and record the event
id. A handler that raises is retried with backoff; after ``max_attempts`` the message goes to
the dead-letter topic with the error and its original headers, and the partition moves on.
Offsets are committed by hand after the messages are processed, never before: once per
fetch, in one request for all of its partitions. Not on the embedded broker, where nothing
reads them (every assignment reads from the beginning, see ``_RestartFromCommitted``): there
a commit was a broker round trip per fetch between a batch and the next fetch, and ~8 % of a
consumer's CPU at a steady rate, for offsets no one would ever use.

Messages come in batches, and a batch is applied in ONE transaction: its inbox rows and every
handler's effects commit together, or none of them does. That is what lets a consumer keep
up: one commit, and one inbox query, per batch instead of per message. A batch is what one
fetch brought, of every partition, when it all decodes and is at most ``max_batch`` messages
(a fetch brings at most ``max(100, max_batch)``): each partition's messages stay in their
order, and one commit serves the fetch instead of one per partition, which at a steady rate
(a few events per partition and fetch) is most of a consumer's round trips. Otherwise, or
when such a batch cannot be applied whole, each partition's messages make batches of their
own, up to ``max_batch``. A message that cannot be decoded (malformed, unknown type, invalid
data) ends a batch: it is dead-lettered on its own and the messages after it make the next
batch. A batch is all or nothing, so a message that cannot be applied with the others (a
handler that raises, an event that waits for another, a concurrent member of the group)
does not hold the rest: the whole batch is rolled back and its messages are taken a
partition's batch at a time, then one at a time, each in its own transaction, as described
above; only the poison message is retried and dead-lettered, the others are applied once.
``on_processed`` hears of a batch's messages once it has committed. A process that dies in
the middle of a batch committed nothing of it; one that dies after the commit and before
the offset commit reads the batch again, and the inbox skips every message of it.

A consumer at the head of the log (its fetch brought less than a full one) does not fetch
again while it applies what it got (its partitions are paused meanwhile): aiokafka would
otherwise send the next fetch at once, hand over what that brought only after the batch,
and leave whatever arrived during the batch for the fetch after it, a batch's time more for
every event. A full fetch means a backlog: then the next is fetched while this one is
applied, as aiokafka does.

An event can arrive before what it depends on: after the broker lost its log the relays
publish the lost events again, behind newer ones already sent; a change can come before the
registration it needs, which travels on another topic. A handler says so by raising one of
the consumer's ``waits_for`` exceptions. Such an event is not retried in place, holding its
partition, nor dead-lettered: it is parked, and the partition moves on. A parked event is
tried again with backoff, and at once whenever another event of its key is applied (that
may be the very one it waits for, published again behind it), for up to
``wait_for_dependencies_seconds``; only then is it dead-lettered. Because a later event of
the same key may be applied before a parked one, handlers that wait must apply changes by
version, not by arrival (the data migration's sync does). Offsets are committed no further
than the oldest parked message, so a restart reads it again.

The consumer notices a broker that lost its log by itself: on the embedded broker every
assignment reads from the beginning (see ``_RestartFromCommitted``), and a position beyond a
partition's high-watermark (the new log is shorter than what was read) is read again from
the beginning of the new log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from local_processes import stopped_within
from pydantic import ValidationError
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strangler_contracts import (
    CloudEvent,
    IntegrationEvent,
    InvalidEventData,
    UnknownEventType,
    dead_letter_topic,
    decode,
)
from strangler_persistence import utcnow

from strangler_eventing.correlation import use_correlation_id
from strangler_eventing.dead_letters import dead_letter_headers
from strangler_eventing.inbox import record_new_events
from strangler_eventing.kafka import BrokerConfig, create_consumer, stop_client
from strangler_eventing.metrics import CONSUMER_LAG, CONSUMER_MESSAGES, CONSUMER_PARKED
from strangler_eventing.tracing import consumer_trace

__all__ = ["ConsumerSettings", "EventHandler", "IdempotentConsumer", "Outcome"]

logger = logging.getLogger(__name__)


class EventHandler(Protocol):
    """Applies one event inside the given transaction; raising means "not applied"."""

    def __call__(
        self, session: AsyncSession, event: Any, envelope: CloudEvent
    ) -> Awaitable[None]: ...


Outcome = Literal["processed", "duplicate", "ignored", "dead_lettered"]
ProcessedHook = Callable[[ConsumerRecord, Outcome], Awaitable[None]]
_Waiting = Literal["waiting"]


@dataclass(frozen=True)
class ConsumerSettings:
    max_attempts: int = 5
    first_backoff_seconds: float = 0.2
    max_backoff_seconds: float = 5.0
    commit_timeout_seconds: float = 10.0
    poll_timeout_ms: int = 200
    wait_for_dependencies_seconds: float = 300.0
    """How long an event that came before what it depends on is parked and retried."""
    max_batch: int = 100
    """At most this many messages in one transaction; 1 applies them one by one."""


@dataclass
class _Parked:
    """A message set aside until what it depends on has arrived."""

    message: ConsumerRecord
    since: float
    attempts: int
    due: float


class IdempotentConsumer:
    """Consumes the topics its handlers' events live on, as consumer group ``group_id``."""

    def __init__(
        self,
        *,
        broker: BrokerConfig,
        group_id: str,
        handlers: Mapping[type[IntegrationEvent], EventHandler],
        sessions: async_sessionmaker[AsyncSession],
        inbox: Table,
        producer: AIOKafkaProducer,
        settings: ConsumerSettings | None = None,
        on_processed: ProcessedHook | None = None,
        waits_for: tuple[type[Exception], ...] = (),
    ) -> None:
        self.broker = broker
        self.group_id = group_id
        self.handlers = dict(handlers)
        self.sessions = sessions
        self.inbox = inbox
        self.producer = producer
        self.settings = settings or ConsumerSettings()
        self.on_processed = on_processed
        self.waits_for = waits_for
        self.topics = sorted({event.topic for event in self.handlers})
        self._parked: dict[TopicPartition, list[_Parked]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set. Offsets not committed on exit are simply re-read."""
        fetch_size = max(100, self.settings.max_batch)
        consumer = create_consumer(self.broker, self.group_id, max_records=fetch_size)
        consumer.subscribe(
            self.topics, listener=_RestartFromCommitted(consumer, self.broker, self._forget)
        )
        await consumer.start()
        try:
            while not stop.is_set():
                consumer.resume(*consumer.paused())
                batches = await consumer.getmany(timeout_ms=self.settings.poll_timeout_ms)
                if sum(map(len, batches.values())) < fetch_size:
                    # At the head of the log: fetch again once this is applied, not now.
                    # A fetch sent now would bring what arrived so far and be handed over
                    # only after this batch; what arrives meanwhile would wait for the
                    # fetch after it: a batch's time more for every event.
                    consumer.pause(*consumer.assignment())
                offsets, going_on = await self._take_fetch(batches, stop)
                if offsets:  # one request for every partition of the fetch
                    await self._commit(consumer, offsets)
                if not going_on:
                    return  # the rest is left for the next run
                if not await self._retry_parked(stop):
                    return
                await self._record_lag(consumer)
        finally:
            self._forget(set(self._parked))
            await stop_client(consumer)

    async def _take_fetch(
        self, batches: Mapping[TopicPartition, list[ConsumerRecord]], stop: asyncio.Event
    ) -> tuple[dict[TopicPartition, int], bool]:
        """Apply what one fetch brought: the offsets to commit, and False when stopping.

        Every partition's messages in ONE transaction when all of them decode and they are
        at most ``max_batch``: one commit and one inbox query for the fetch; otherwise (or
        when that transaction cannot be applied whole) partition by partition."""
        decoded = {
            tp: [_decoded(message) for message in messages] for tp, messages in batches.items()
        }
        every = [item for items in decoded.values() for item in items]
        whole = (
            await self._apply_batch(every)
            if len(decoded) > 1
            and len(every) <= self.settings.max_batch
            and all(item is not None for _, item in every)
            else None
        )
        offsets: dict[TopicPartition, int] = {}
        if whole is not None:
            going_on = await self._finish_batch(every, whole, stop)
            for tp, messages in batches.items():
                offsets[tp] = self._committable(tp, messages[-1])
            return offsets, going_on
        for tp, items in decoded.items():
            if not await self._take_all(items, stop):
                return offsets, False  # what was applied before stopping mid-retry
            offsets[tp] = self._committable(tp, items[-1][0])
        return offsets, True

    async def _take_all(self, items: list[_Decoded], stop: asyncio.Event) -> bool:
        """Apply a partition's fetched messages in order, a batch per transaction; False
        when stopping. A message that cannot be decoded ends a batch and is taken alone
        (dead-lettered with its reason): the messages around it still go in batches."""
        size = max(1, self.settings.max_batch)
        for start in range(0, len(items), size):
            for batch in _batches(items[start : start + size]):
                if not await self._take_batch(batch, stop):
                    return False
        return True

    async def _take_batch(self, batch: list[_Decoded], stop: asyncio.Event) -> bool:
        """Apply ``batch`` in one transaction, or each of its messages alone if it cannot be
        applied whole; False when stopping. A batch of one goes the same way: one inbox
        statement, the envelope decoded once (most fetches at a steady rate bring one or two
        events); only when it cannot be applied is it retried alone."""
        applied = await self._apply_batch(batch)
        if applied is None:
            for message, _ in batch:
                if not await self._take(_partition(message), message, stop):
                    return False
            return True
        return await self._finish_batch(batch, applied, stop)

    async def _finish_batch(
        self, batch: list[_Decoded], applied: list[Outcome], stop: asyncio.Event
    ) -> bool:
        """Report a committed batch's outcomes, retrying what waited for its keys; False
        when stopping."""
        for (message, _), outcome in zip(batch, applied, strict=True):
            await self._finished(message, outcome)
            if (
                outcome == "processed"
                and self._parked
                and not await self._retry_parked(stop, released=(_partition(message), message.key))
            ):
                return False
        return True

    async def _apply_batch(self, batch: list[_Decoded]) -> list[Outcome] | None:
        """Apply every message in one transaction, with one inbox statement for all of them;
        the outcome of each, or None — nothing committed — if one of them must be taken alone."""
        messages = [message for message, _ in batch]
        decoded: list[tuple[ConsumerRecord, CloudEvent, IntegrationEvent]] = []
        for message, item in batch:
            if item is None:  # not from _batches, which keeps such a message on its own
                return None
            decoded.append((message, *item))
        if not any(type(event) in self.handlers for _, _, event in decoded):
            return ["ignored"] * len(decoded)
        outcomes: list[Outcome] = []
        try:
            async with self.sessions() as session, session.begin():
                now = utcnow()
                marks = {
                    envelope.id: {
                        "consumer_group": self.group_id,
                        "event_id": envelope.id,
                        "event_type": envelope.type,
                        "processed_at": now,
                    }
                    for _, envelope, event in decoded
                    if type(event) in self.handlers
                }
                # The inbox rows first, those already there skipped: what is new is found
                # and recorded in one statement, and its effects follow in this transaction.
                new = set(
                    await session.scalars(
                        record_new_events(self.inbox, session.get_bind().dialect.name),
                        list(marks.values()),
                    )
                )
                for message, envelope, event in decoded:
                    handler = self.handlers.get(type(event))
                    if handler is None:
                        outcomes.append("ignored")
                        continue
                    if envelope.id not in new:  # applied before, or earlier in this batch
                        outcomes.append("duplicate")
                        continue
                    new.discard(envelope.id)
                    use_correlation_id(envelope.correlationid)
                    with self._span(message, envelope):
                        await handler(session, event, envelope)
                    outcomes.append("processed")
        except Exception as exc:  # rolled back: each message is taken alone, in order
            logger.info(
                "%s: a batch of %d from %s:%d on is taken apart (%s: %s)",
                self.group_id,
                len(messages),
                messages[0].topic,
                messages[0].partition,
                type(exc).__name__,
                exc,
            )
            return None
        return outcomes

    def _span(self, message: ConsumerRecord, envelope: CloudEvent) -> Any:
        return consumer_trace(
            f"{message.topic} process",
            message.headers,
            {
                "messaging.system": "kafka",
                "messaging.destination.name": message.topic,
                "messaging.consumer.group.name": self.group_id,
                "messaging.message.id": envelope.id,
                "messaging.kafka.offset": message.offset,
                "cloudevents.event_type": envelope.type,
            },
        )

    async def _take(self, tp: TopicPartition, message: ConsumerRecord, stop: asyncio.Event) -> bool:
        """Process one message as it arrives; False when stopping."""
        now = asyncio.get_running_loop().time()
        outcome = await self._process(message, stop, waiting_since=now)
        if outcome is None:
            return False
        if outcome == "waiting":
            self._park(tp, message, now)
            return True
        await self._finished(message, outcome)
        if outcome == "processed":
            return await self._retry_parked(stop, released=(tp, message.key))
        return True

    def _park(self, tp: TopicPartition, message: ConsumerRecord, now: float) -> None:
        due = now + self.settings.first_backoff_seconds
        self._parked.setdefault(tp, []).append(_Parked(message, now, 1, due))
        CONSUMER_MESSAGES.labels(self.group_id, message.topic, "parked").inc()
        CONSUMER_PARKED.labels(self.group_id).inc()
        logger.info(
            "%s: parked %s:%d:%d until what it depends on arrives",
            self.group_id,
            message.topic,
            message.partition,
            message.offset,
        )

    async def _retry_parked(
        self, stop: asyncio.Event, released: tuple[TopicPartition, bytes | None] | None = None
    ) -> bool:
        """Try the parked messages that are due, oldest first, and those of a key that was
        just applied (``released``); False when stopping."""
        loop = asyncio.get_running_loop()
        for tp, parked in list(self._parked.items()):
            released_keys = {released[1]} if released is not None and released[0] == tp else set()
            for waiting in list(parked):
                key = waiting.message.key
                if waiting.due > loop.time() and key not in released_keys:
                    continue
                outcome = await self._process(waiting.message, stop, waiting_since=waiting.since)
                if outcome is None:
                    return False
                if outcome == "waiting":
                    waiting.attempts += 1
                    waiting.due = loop.time() + self._backoff(waiting.attempts)
                    continue
                parked.remove(waiting)
                CONSUMER_PARKED.labels(self.group_id).dec()
                await self._finished(waiting.message, outcome)
                if outcome == "processed":
                    released_keys.add(key)
            if not parked:
                self._parked.pop(tp, None)
        return True

    def _committable(self, tp: TopicPartition, last: ConsumerRecord) -> int:
        """The offset to commit: past ``last``, but not past the oldest parked message."""
        after_last = int(last.offset) + 1
        parked = self._parked.get(tp)
        if parked:
            return min(after_last, *(int(p.message.offset) for p in parked))
        return after_last

    def _forget(self, partitions: set[TopicPartition]) -> None:
        """Drop what is parked of partitions no longer ours: their next reader reads it again."""
        for tp in partitions:
            dropped = self._parked.pop(tp, [])
            if dropped:
                CONSUMER_PARKED.labels(self.group_id).dec(len(dropped))

    async def _finished(self, message: ConsumerRecord, outcome: Outcome) -> None:
        CONSUMER_MESSAGES.labels(self.group_id, message.topic, outcome).inc()
        if self.on_processed is not None:
            await self.on_processed(message, outcome)

    def _backoff(self, attempt: int) -> float:
        return float(
            min(
                self.settings.max_backoff_seconds,
                self.settings.first_backoff_seconds * 2 ** (attempt - 1),
            )
        )

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        if not self.broker.committed_offsets_are_durable:
            return  # nobody reads them: each assignment reads from the beginning
        # After a broker restart commit() can retry forever; a lost commit only means a
        # redelivery, which the inbox turns into a no-op.
        try:
            await asyncio.wait_for(consumer.commit(offsets), self.settings.commit_timeout_seconds)
        except Exception as exc:
            logger.warning(
                "%s: offset commit failed (%s); messages will be re-read", self.group_id, exc
            )

    async def _record_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            position = await consumer.position(tp)
            if position > highwater:
                logger.warning(
                    "%s: %s is at %d but its log ends at %d: the broker lost its log; "
                    "reading the new one from its beginning",
                    self.group_id,
                    tp,
                    position,
                    highwater,
                )
                await consumer.seek_to_beginning(tp)
                position = 0
            CONSUMER_LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(
                max(0, highwater - position)
            )

    async def _process(
        self, message: ConsumerRecord, stop: asyncio.Event, *, waiting_since: float
    ) -> Outcome | _Waiting | None:
        """Apply one message; "waiting" when it came before what it depends on, None when
        stopping mid-retry."""
        try:
            envelope = CloudEvent.model_validate_json(message.value)
        except (ValidationError, ValueError, TypeError) as exc:
            return await self._dead_letter(message, "malformed", f"not a CloudEvent: {exc}", 0)
        try:
            event = decode(envelope)
        except UnknownEventType as exc:
            return await self._dead_letter(message, "unknown-event-type", str(exc), 0)
        except InvalidEventData as exc:
            return await self._dead_letter(message, "invalid-event-data", str(exc), 0)
        handler = self.handlers.get(type(event))
        if handler is None:
            return "ignored"

        use_correlation_id(envelope.correlationid)
        attempt = 0
        while True:
            attempt += 1
            with self._span(message, envelope):
                try:
                    return await self._apply_once(handler, event, envelope)
                except self.waits_for as exc:
                    waited = asyncio.get_running_loop().time() - waiting_since
                    if waited < self.settings.wait_for_dependencies_seconds:
                        return "waiting"
                    error = f"{type(exc).__name__}: {exc} (waited {waited:.0f} s)"
                    return await self._dead_letter(message, "dependency-missing", error, attempt)
                except Exception as exc:
                    CONSUMER_MESSAGES.labels(self.group_id, message.topic, "failed").inc()
                    if attempt >= self.settings.max_attempts:
                        error = f"{type(exc).__name__}: {exc}"
                        return await self._dead_letter(message, "handler-failed", error, attempt)
                    logger.warning(
                        "%s: %s failed (attempt %d/%d): %s",
                        self.group_id,
                        envelope.type,
                        attempt,
                        self.settings.max_attempts,
                        exc,
                    )
            if await stopped_within(stop, self._backoff(attempt)):
                return None

    async def _apply_once(
        self, handler: EventHandler, event: IntegrationEvent, envelope: CloudEvent
    ) -> Outcome:
        try:
            async with self.sessions() as session, session.begin():
                already = await session.scalar(
                    select(self.inbox.c.event_id).where(
                        self.inbox.c.consumer_group == self.group_id,
                        self.inbox.c.event_id == envelope.id,
                    )
                )
                if already is not None:
                    return "duplicate"
                await handler(session, event, envelope)
                await session.execute(
                    insert(self.inbox).values(
                        consumer_group=self.group_id,
                        event_id=envelope.id,
                        event_type=envelope.type,
                        processed_at=utcnow(),
                    )
                )
        except IntegrityError:
            # Another member of the group applied it first (during a rebalance); ours rolled back.
            return "duplicate"
        return "processed"

    async def _dead_letter(
        self, message: ConsumerRecord, reason: str, error: str, attempts: int
    ) -> Outcome:
        """Park the message on the dead-letter topic; retried until the broker takes it."""
        headers = dead_letter_headers(
            original_headers=list(message.headers),
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            group=self.group_id,
            reason=reason,
            error=error,
            attempts=attempts,
        )
        delay = self.settings.first_backoff_seconds
        while True:
            try:
                await self.producer.send_and_wait(
                    dead_letter_topic(message.topic),
                    value=message.value,
                    key=message.key,
                    headers=headers,
                )
                break
            except Exception as exc:
                logger.warning("%s: dead-lettering failed (%s); retrying", self.group_id, exc)
                await asyncio.sleep(delay)
                delay = min(self.settings.max_backoff_seconds, delay * 2)
        logger.error(
            "%s: dead-lettered %s:%d:%d (%s): %s",
            self.group_id,
            message.topic,
            message.partition,
            message.offset,
            reason,
            error,
        )
        return "dead_lettered"


_Decoded = tuple[ConsumerRecord, tuple[CloudEvent, IntegrationEvent] | None]
"""A message with its envelope and event, or None when it cannot be decoded."""


def _decoded(message: ConsumerRecord) -> _Decoded:
    try:
        envelope = CloudEvent.model_validate_json(message.value)
        return message, (envelope, decode(envelope))
    except (ValidationError, ValueError, TypeError, UnknownEventType, InvalidEventData):
        return message, None  # dead-lettered with its reason when taken alone


def _partition(message: ConsumerRecord) -> TopicPartition:
    return TopicPartition(message.topic, message.partition)


def _batches(items: list[_Decoded]) -> Iterator[list[_Decoded]]:
    """The runs of decodable messages, in order, and each undecodable message on its own."""
    run: list[_Decoded] = []
    for item in items:
        if item[1] is not None:
            run.append(item)
            continue
        if run:
            yield run
            run = []
        yield [item]
    if run:
        yield run


class _RestartFromCommitted(ConsumerRebalanceListener):  # type: ignore[misc]
    """Where to read a partition from when it is assigned to this member.

    On Apache Kafka: from the group's committed offset (a partition without one from its
    beginning, as a fresh group would). On the embedded broker nothing the broker remembers
    can be trusted after a restart: the log and the group offsets are gone, a stale position
    may even be committed to the new broker before the group rejoins, and old positions are
    not reported out of range. So there every assignment reads from the beginning of the
    (in-memory, hence small) log; everything already applied is a no-op thanks to the inbox.
    A restart always causes a rejoin, hence an assignment, so nothing published after it is
    passed over.
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        broker: BrokerConfig,
        forget: Callable[[set[TopicPartition]], None],
    ) -> None:
        self.consumer = consumer
        self.broker = broker
        self.forget = forget

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.forget(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        if self.broker.committed_offsets_are_durable:
            rewind = [tp for tp in assigned if await self.consumer.committed(tp) is None]
        else:
            rewind = list(assigned)
        if rewind:
            await self.consumer.seek_to_beginning(*rewind)
