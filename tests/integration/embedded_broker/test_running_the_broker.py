"""The embedded broker as tests and the runner use it: real tansu processes on free ports."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from embedded_broker import BrokerStartError, EmbeddedBroker
from strangler_contracts import ALL_TOPICS
from strangler_contracts.topics import ACCOUNTS
from strangler_eventing import BrokerConfig, create_consumer, create_producer

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"


@asynccontextmanager
async def _reader(broker: EmbeddedBroker) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = create_consumer(BrokerConfig(bootstrap_servers=broker.bootstrap_servers), None)
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def _produce(broker: EmbeddedBroker, key: bytes, headers: list[tuple[str, bytes]]) -> None:
    producer = create_producer(BrokerConfig(bootstrap_servers=broker.bootstrap_servers))
    await producer.start()
    try:
        await producer.send_and_wait(
            ACCOUNTS.name, b'{"hello": "broker"}', key=key, headers=headers
        )
    finally:
        await producer.stop()


async def _everything_on(broker: EmbeddedBroker, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic`, read from the beginning up to each partition's high-watermark."""
    async with _reader(broker) as consumer:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while True:
            batches = await consumer.getmany(*partitions, timeout_ms=200)
            records.extend(record for batch in batches.values() for record in batch)
            ends = [consumer.highwater(tp) for tp in partitions]
            positions = [await consumer.position(tp) for tp in partitions]
            if None not in ends and positions == ends:
                return records


def _taken_port_listener() -> socket.socket:
    held = socket.socket()
    held.bind((HOST, 0))
    held.listen()
    return held


async def test_every_contract_topic_exists_with_its_partition_count(
    broker: EmbeddedBroker,
) -> None:
    async with _reader(broker) as consumer:
        existing = await consumer.topics()
        partitions = {name: len(consumer.partitions_for_topic(name)) for name in existing}

    assert {spec.name: spec.partitions for spec in ALL_TOPICS}.items() <= partitions.items()


async def test_a_produced_record_is_consumed_back_with_its_key_and_headers(
    broker: EmbeddedBroker,
) -> None:
    key = f"user-{uuid.uuid4().hex[:8]}".encode()
    headers = [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]

    await _produce(broker, key, headers)

    mine = [record for record in await _everything_on(broker, ACCOUNTS.name) if record.key == key]
    assert len(mine) == 1
    assert mine[0].value == b'{"hello": "broker"}'
    assert list(mine[0].headers) == headers


async def test_a_restart_loses_the_log_which_is_expected_of_memory_storage(
    broker: EmbeddedBroker,
) -> None:
    """The outboxes are the durable record; the broker's log is not, and tests rely on that."""
    key = f"lost-{uuid.uuid4().hex[:8]}".encode()
    await _produce(broker, key, [])
    port_before = broker.port

    await asyncio.to_thread(broker.restart)

    assert broker.port == port_before
    assert broker.running
    assert await _everything_on(broker, ACCOUNTS.name) == []
    # The fixture's `after_start` created the topics again, with their partition counts.
    async with _reader(broker) as consumer:
        await consumer.topics()
        assert len(consumer.partitions_for_topic(ACCOUNTS.name)) == ACCOUNTS.partitions


def test_starting_on_a_taken_port_fails_at_once_naming_the_port() -> None:
    with _taken_port_listener() as held:
        port = held.getsockname()[1]
        broker = EmbeddedBroker(HOST, port)
        started = time.monotonic()

        with pytest.raises(BrokerStartError, match=f"{HOST}:{port}: the port is already in use"):
            broker.start()

    assert time.monotonic() - started < 2
    assert not broker.running


def test_a_broker_that_exits_before_answering_is_reported_not_waited_for(
    tmp_path: Path,
) -> None:
    """tansu that cannot listen exits with code 0; a start must fail, not time out."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    broker = EmbeddedBroker(HOST, port, binary=Path("/bin/true"), ready_timeout_seconds=30)
    started = time.monotonic()

    with pytest.raises(BrokerStartError, match="exited with code 0 before it was ready"):
        broker.start()

    assert time.monotonic() - started < 5
    assert not broker.running
