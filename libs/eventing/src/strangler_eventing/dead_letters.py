"""Dead letters: messages a consumer could not apply, kept with why, and sent back on demand.

A dead letter is the original message (same key, value and headers) on ``<topic>.dlq`` with
``dlq.*`` headers saying which group gave up on it, why, and where it came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, TopicPartition
from strangler_contracts import dead_letter_topic

from strangler_eventing.kafka import BrokerConfig, create_consumer, create_producer

__all__ = [
    "DeadLetter",
    "dead_letter_headers",
    "read_dead_letters",
    "redrive",
]

PREFIX = "dlq."
REDRIVEN_FROM = "dlq-redriven-from"


def dead_letter_headers(
    *,
    original_headers: Sequence[tuple[str, bytes]],
    topic: str,
    partition: int,
    offset: int,
    group: str,
    reason: str,
    error: str,
    attempts: int,
) -> list[tuple[str, bytes]]:
    extra = {
        "reason": reason,
        "error": error[:2000],
        "original-topic": topic,
        "original-partition": str(partition),
        "original-offset": str(offset),
        "consumer-group": group,
        "attempts": str(attempts),
        "failed-at": datetime.now(UTC).isoformat(),
    }
    kept = [(name, value) for name, value in original_headers if not name.startswith(PREFIX)]
    return kept + [(PREFIX + name, value.encode()) for name, value in extra.items()]


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @property
    def info(self) -> dict[str, str]:
        return {
            name.removeprefix(PREFIX): value.decode(errors="replace")
            for name, value in self.headers
            if name.startswith(PREFIX)
        }

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(n, v) for n, v in self.headers if not n.startswith(PREFIX)]

    @property
    def ref(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


async def read_dead_letters(
    config: BrokerConfig, topic: str, timeout_seconds: float = 5.0
) -> list[DeadLetter]:
    """Every dead letter of ``topic`` (its source topic, not the ``.dlq`` name), oldest first.

    Reads without a consumer group from the beginning to the high-watermark (the broker's
    end offsets are not trusted: the embedded one gets them wrong).
    """
    dlq = dead_letter_topic(topic)
    consumer = create_consumer(config, None)
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        await consumer.topics()  # fetch metadata for every topic
        partitions = consumer.partitions_for_topic(dlq) or set()
        assigned = [TopicPartition(dlq, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        done: set[TopicPartition] = set()
        while len(done) < len(assigned) and loop.time() < deadline:
            batches = await consumer.getmany(*assigned, timeout_ms=200)
            for messages in batches.values():
                letters.extend(
                    DeadLetter(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers))
                    for m in messages
                )
            for tp in assigned:
                highwater = consumer.highwater(tp)
                if highwater is not None and await consumer.position(tp) >= highwater:
                    done.add(tp)
    finally:
        await consumer.stop()
    return sorted(letters, key=lambda letter: (letter.partition, letter.offset))


async def redrive(
    config: BrokerConfig, letters: Sequence[DeadLetter], producer: AIOKafkaProducer | None = None
) -> int:
    """Send dead letters back to their original topic, with their original key and headers.

    The consumer that gave up has not recorded them as processed, so it applies them now;
    other groups recognise them by event id and skip them.
    """
    own = producer is None
    sender = producer or create_producer(config)
    if own:
        await sender.start()
    try:
        for letter in letters:
            original = letter.info.get("original-topic") or letter.topic.removesuffix(".dlq")
            headers = [*letter.original_headers, (REDRIVEN_FROM, letter.ref.encode())]
            await sender.send_and_wait(
                original, value=letter.value, key=letter.key, headers=headers
            )
    finally:
        if own:
            await sender.stop()
    return len(letters)
