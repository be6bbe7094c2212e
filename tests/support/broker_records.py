"""Reading the broker the way any Kafka client would, to see what a running system published."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

__all__ = ["event_id_in", "events_about"]


async def events_about(
    bootstrap: str, topic: str, subject: str, expected: int, timeout: float = 30
) -> list[tuple[dict[str, Any], dict[str, bytes]]]:
    """Every event on ``topic`` whose CloudEvents subject is ``subject``, read with a plain
    aiokafka consumer: no group, no project code, like kcat would."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[tuple[dict[str, Any], dict[str, bytes]]] = []
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        if not partitions:
            await consumer.topics()
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < expected and asyncio.get_running_loop().time() < deadline:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                for message in messages:
                    envelope = _envelope(message.value)
                    if envelope is not None and envelope.get("subject") == subject:
                        found.append((envelope, dict(message.headers)))
    finally:
        await consumer.stop()
    return found


def _envelope(value: bytes | None) -> dict[str, Any] | None:
    """The record as a JSON object, or None: other tests share the broker and put poison
    messages on the same topics on purpose; those are about nobody's subject."""
    try:
        decoded = json.loads(value or b"")
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def event_id_in(value: bytes | None) -> str | None:
    """The CloudEvent id inside a message value, if it is a CloudEvent at all (a dead letter
    may be another test's poison)."""
    envelope = _envelope(value)
    event_id = envelope.get("id") if envelope is not None else None
    return event_id if isinstance(event_id, str) else None
