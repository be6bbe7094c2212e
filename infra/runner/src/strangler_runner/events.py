"""`strangler events …`: create the topics, list them, and follow the events on them.

Everything here reads without a consumer group: it assigns every partition itself and seeks
to the beginning, so it never disturbs the services' groups and commits nothing. tansu
answers `end_offsets`, `seek_to_end` and "latest" wrongly, so the end of a partition is the
high-watermark a fetch reports, and "only new events" means "skip records older than the
moment tail started".
"""

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from strangler_contracts import ALL_TOPICS, TopicSpec
from strangler_contracts.topics import DEAD_LETTER_SUFFIX
from strangler_eventing import BrokerConfig, create_consumer, ensure_topics

from strangler_runner.console import RunnerConsole

__all__ = [
    "BrokerUnavailable",
    "EventLine",
    "PartitionRange",
    "TopicOffsets",
    "UnknownTopics",
    "broker_config",
    "create_topics",
    "create_topics_in_runner",
    "default_tail_topics",
    "describe_topics",
    "follow",
    "show_topics",
    "tail",
]

CLIENT_ID = "strangler-events"
CONNECT_TIMEOUT_SECONDS = 10.0
HIGHWATER_TIMEOUT_SECONDS = 10.0
_POLL_MS = 250
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

ShowRecord = Callable[[ConsumerRecord[bytes, bytes]], None]


class BrokerUnavailable(Exception):
    """No broker answered at the bootstrap servers."""


class UnknownTopics(Exception):
    """A topic asked for does not exist on the broker."""


def broker_config(bootstrap_servers: str) -> BrokerConfig:
    return BrokerConfig(bootstrap_servers=bootstrap_servers, client_id=CLIENT_ID)


def default_tail_topics() -> list[str]:
    """Every contract topic except the dead-letter ones."""
    return [spec.name for spec in ALL_TOPICS if not spec.name.endswith(DEAD_LETTER_SUFFIX)]


def create_topics(bootstrap_servers: str, console: RunnerConsole) -> int:
    """Create every contract topic that does not exist yet; the process exit code."""
    config = broker_config(bootstrap_servers)
    try:
        created = asyncio.run(ensure_topics(config, ALL_TOPICS, CONNECT_TIMEOUT_SECONDS))
    except (KafkaError, TimeoutError) as failure:
        console.error(f"could not create the topics on {config.bootstrap_servers}: {failure!r}")
        return 1
    _report_created(created, console)
    return 0


async def create_topics_in_runner(bootstrap_servers: str, console: RunnerConsole) -> str | None:
    """What `create-topics` does, awaited in the runner's own process; why it failed, if it did.

    `strangler up` runs it once the broker accepts: a Python process of its own for it cost
    more CPU than the topics, on the path every other component waits on."""
    config = broker_config(bootstrap_servers)
    try:
        created = await ensure_topics(config, ALL_TOPICS, CONNECT_TIMEOUT_SECONDS)
    except (KafkaError, TimeoutError) as failure:
        return f"could not create the topics on {config.bootstrap_servers}: {failure!r}"
    _report_created(created, console)
    return None


def _report_created(created: Sequence[str], console: RunnerConsole) -> None:
    partitions = {spec.name: spec.partitions for spec in ALL_TOPICS}
    for name in created:
        count = partitions[name]
        console.message(f"created {name} ({count} partition{'' if count == 1 else 's'})")
    if not created:
        console.message(f"all {len(ALL_TOPICS)} topics exist already")


@dataclass(frozen=True)
class PartitionRange:
    partition: int
    start: int
    """The earliest offset still in the log."""
    high_watermark: int
    """The offset the next record will get."""

    @property
    def records(self) -> int:
        return self.high_watermark - self.start


@dataclass(frozen=True)
class TopicOffsets:
    name: str
    partitions: tuple[PartitionRange, ...]

    @property
    def records(self) -> int:
        return sum(partition.records for partition in self.partitions)


async def describe_topics(config: BrokerConfig) -> list[TopicOffsets]:
    """Every topic on the broker with, per partition, its first offset and high-watermark."""
    async with _reader(config) as consumer:
        names = sorted(await consumer.topics())
        assigned = _all_partitions(consumer, names)
        if not assigned:
            return []
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        starts = {tp: int(await consumer.position(tp)) for tp in assigned}
        high_watermarks = await _high_watermarks(consumer, assigned)
    return [
        TopicOffsets(
            name=name,
            partitions=tuple(
                PartitionRange(tp.partition, starts[tp], high_watermarks[tp])
                for tp in assigned
                if tp.topic == name
            ),
        )
        for name in names
    ]


def show_topics(bootstrap_servers: str, console: RunnerConsole) -> int:
    """Print every topic; exit code 1 if a contract topic is missing or mis-partitioned."""
    try:
        topics = asyncio.run(describe_topics(broker_config(bootstrap_servers)))
    except BrokerUnavailable as unavailable:
        console.error(str(unavailable))
        return 1
    console.table(
        ("topic", "partitions", "records", "high-watermark by partition"),
        (
            (
                topic.name,
                str(len(topic.partitions)),
                str(topic.records),
                "  ".join(f"{p.partition}:{p.high_watermark}" for p in topic.partitions),
            )
            for topic in topics
        ),
        right_aligned=("partitions", "records"),
    )
    problems = list(_contract_problems(ALL_TOPICS, topics))
    for problem in problems:
        console.error(problem)
    return 1 if problems else 0


def _contract_problems(specs: Iterable[TopicSpec], topics: Sequence[TopicOffsets]) -> Iterable[str]:
    found = {topic.name: len(topic.partitions) for topic in topics}
    for spec in specs:
        if spec.name not in found:
            yield f"{spec.name} is missing — `strangler events create-topics` creates it"
        elif found[spec.name] != spec.partitions:
            yield (
                f"{spec.name} has {found[spec.name]} partitions, the contract says "
                f"{spec.partitions} (was it auto-created before the topics were?)"
            )


async def _high_watermarks(
    consumer: AIOKafkaConsumer, assigned: Sequence[TopicPartition]
) -> dict[TopicPartition, int]:
    # A fetch reports the high-watermark of every partition it covers, records or not.
    deadline = time.monotonic() + HIGHWATER_TIMEOUT_SECONDS
    while True:
        await consumer.getmany(*assigned, timeout_ms=_POLL_MS)
        known = {tp: consumer.highwater(tp) for tp in assigned}
        if all(value is not None for value in known.values()):
            return {tp: int(value) for tp, value in known.items()}
        if time.monotonic() >= deadline:
            unknown = sorted(f"{tp.topic}/{tp.partition}" for tp, v in known.items() if v is None)
            raise BrokerUnavailable(f"no high-watermark reported for {', '.join(unknown)}")


@dataclass(frozen=True)
class EventLine:
    """One record as `strangler events tail` shows it."""

    record: ConsumerRecord[bytes, bytes]

    @property
    def envelope(self) -> dict[str, Any] | None:
        """The CloudEvents envelope, or None when the value is not a JSON object."""
        try:
            decoded = json.loads(self.record.value or b"")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        return decoded if isinstance(decoded, dict) else None

    def header(self, name: str) -> str | None:
        for key, value in self.record.headers:
            if key == name:
                return bytes(value).decode(errors="replace")
        return None

    def summary(self) -> str:
        """time, topic/partition@offset, key, type, subject and traceparent on one line."""
        record = self.record
        when = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        key = record.key.decode(errors="replace") if record.key is not None else "-"
        envelope = self.envelope
        if envelope is None:
            size = len(record.value or b"")
            what = f"(not a CloudEvents JSON envelope: {size} bytes)"
        else:
            what = f"{envelope.get('type', '?')} subject={envelope.get('subject', '-')}"
        parts = [
            when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            f"{record.topic}/{record.partition}@{record.offset}",
            f"key={key}",
            what,
        ]
        traceparent = self.header("traceparent")
        if traceparent is not None:
            parts.append(f"traceparent={traceparent}")
        return "  ".join(parts)

    def as_json(self) -> str | None:
        """The envelope on one line, or None when the value is not a JSON object."""
        envelope = self.envelope
        if envelope is None:
            return None
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


def tail(
    bootstrap_servers: str,
    topics: Sequence[str],
    console: RunnerConsole,
    *,
    since_ms: int | None,
    as_json: bool,
) -> int:
    """Print the events on `topics` until SIGINT or SIGTERM; the exit code.

    Records stamped before `since_ms` (milliseconds since the epoch) are skipped; None
    shows every record still in the log.
    """

    def show(record: ConsumerRecord[bytes, bytes]) -> None:
        line = EventLine(record)
        if not as_json:
            console.message(line.summary())
        elif (envelope := line.as_json()) is not None:
            console.message(envelope)
        else:
            console.error(f"skipped, not a JSON envelope: {line.summary()}")

    config = broker_config(bootstrap_servers)
    try:
        asyncio.run(_tail_until_stopped(config, topics, since_ms, show, console))
    except (BrokerUnavailable, UnknownTopics) as failure:
        console.error(str(failure))
        return 1
    return 0


async def _tail_until_stopped(
    config: BrokerConfig,
    topics: Sequence[str],
    since_ms: int | None,
    show: ShowRecord,
    console: RunnerConsole,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)

    def following() -> None:
        console.aside(f"following {', '.join(topics)} on {config.bootstrap_servers}; Ctrl-C stops")

    try:
        await follow(
            config, topics, since_ms=since_ms, show=show, stop=stop, on_following=following
        )
    finally:
        for signum in _STOP_SIGNALS:
            loop.remove_signal_handler(signum)


async def follow(
    config: BrokerConfig,
    topics: Sequence[str],
    *,
    since_ms: int | None,
    show: ShowRecord,
    stop: asyncio.Event,
    on_following: Callable[[], None] = lambda: None,
) -> None:
    """Show every record on `topics` (those stamped at or after `since_ms`) until `stop`.

    `on_following` is called once every partition is assigned: from then on, nothing
    produced to `topics` is missed.
    """
    async with _reader(config) as consumer:
        existing = await consumer.topics()
        missing = [topic for topic in topics if topic not in existing]
        if missing:
            raise UnknownTopics(
                f"no such topic on {config.bootstrap_servers}: {', '.join(missing)}"
            )
        assigned = _all_partitions(consumer, topics)
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        on_following()
        while not stop.is_set():
            batches = await consumer.getmany(*assigned, timeout_ms=_POLL_MS)
            records = sorted(
                (record for batch in batches.values() for record in batch),
                key=lambda record: (record.timestamp, record.topic, record.partition),
            )
            for record in records:
                if since_ms is None or record.timestamp >= since_ms:
                    show(record)


@asynccontextmanager
async def _reader(config: BrokerConfig) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer in no group, stopped on the way out."""
    consumer = create_consumer(config, None)
    try:
        await asyncio.wait_for(consumer.start(), CONNECT_TIMEOUT_SECONDS)
    except (KafkaError, TimeoutError) as failure:
        await consumer.stop()
        raise BrokerUnavailable(
            f"no broker answers at {config.bootstrap_servers} ({failure!r}) — "
            "is `strangler up` running?"
        ) from failure
    try:
        yield consumer
    finally:
        await consumer.stop()


def _all_partitions(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    return [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
