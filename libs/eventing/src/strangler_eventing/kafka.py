"""Kafka clients configured once for every process, and explicit topic creation.

The same code talks to the embedded broker (tansu) and to Apache Kafka; ``BrokerConfig``
says which. Against tansu the idempotent producer is off (its InitProducerId fails), consumers
start from ``earliest`` (its "latest" is wrong) and group timeouts are short (a join waits half
the session timeout).

Producers do not linger (``linger_ms=0``): what is sent while a request is in flight is
batched anyway, and the relay pipelines a whole outbox batch before it waits for the
acknowledgements once, so the batch is formed before the sender runs. A linger only delayed
every relay batch and every dead letter (measured: 20 ms carried less than 0 or 5 ms; 5 ms
added ~3-8 ms to a paced message's p50 on the raw broker, against ~7 % more client CPU for
messages sent one at a time, which the relay never does). Compression is
``BrokerConfig.compression``: off by default, as on one machine bytes cost nothing and CPU is
what bounds the event path (gzip cut the producer's rate by about a third there). The embedded
broker accepts and returns gzip batches intact (verified with aiokafka 0.14, tansu 0.6);
lz4, zstd and snappy need Python libraries this workspace does not install.

A consumer's fetch waits at most ``BrokerConfig.fetch_max_wait_ms`` for data (50 ms by
default; each service's ``*_KAFKA_FETCH_MAX_WAIT_MS``). Apache Kafka answers a waiting fetch
as soon as data arrives; the embedded broker holds an empty one for the whole wait, so there
the wait is added to an event's latency when it lands on an idle consumer, and it sets how
often an idle consumer polls (measured on tansu: 10 ms halved p50 at 500/s but kept an idle
consumer of three topics at 3-5 % of a core, against 1.1 % at 50 ms).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.protocol.admin import CreateTopicsRequest
from strangler_contracts import TopicSpec

__all__ = [
    "CLIENT_STOP_SECONDS",
    "BrokerConfig",
    "create_consumer",
    "create_producer",
    "create_topics_through",
    "ensure_topics",
    "stop_client",
]

TOPIC_ALREADY_EXISTS = 36
CLIENT_STOP_SECONDS = 2.0

logger = logging.getLogger(__name__)


async def stop_client(
    client: AIOKafkaProducer | AIOKafkaConsumer, seconds: float = CLIENT_STOP_SECONDS
) -> None:
    """Stop a Kafka client, giving up after ``seconds``.

    With the broker gone, a producer's ``stop()`` waits for its unsent batches and a
    consumer's for its group leave, each until a request timeout (tens of seconds): a
    process asked to stop would outlive the runner's SIGTERM bound and be killed. What the
    client had not sent is still in the outbox, and an uncommitted offset is read again.
    """
    try:
        await asyncio.wait_for(client.stop(), seconds)
    except TimeoutError:
        logger.warning("the Kafka client did not stop within %gs; leaving it", seconds)


@dataclass(frozen=True)
class BrokerConfig:
    bootstrap_servers: str = "127.0.0.1:9092"
    kind: Literal["tansu", "kafka"] = "tansu"
    client_id: str = "strangler-fig"
    compression: Literal["gzip"] | None = None
    """How producers compress their batches: worth it across a network, not on one machine."""
    fetch_max_wait_ms: int = 50
    """How long a consumer's fetch waits for data: on tansu, latency against idle polling."""

    @property
    def idempotent_producer(self) -> bool:
        return self.kind == "kafka"

    @property
    def committed_offsets_are_durable(self) -> bool:
        """False for the embedded broker: a restart loses the log and the group offsets."""
        return self.kind == "kafka"


def create_producer(config: BrokerConfig) -> AIOKafkaProducer:
    """``acks=all``; idempotent on real Kafka. Start it in a lifespan, stop it there too."""
    return AIOKafkaProducer(
        bootstrap_servers=config.bootstrap_servers,
        client_id=config.client_id,
        acks="all",
        enable_idempotence=config.idempotent_producer,
        compression_type=config.compression,
        linger_ms=0,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


def create_consumer(
    config: BrokerConfig, group_id: str | None, *topics: str, max_records: int = 100
) -> AIOKafkaConsumer:
    """Manual commits, earliest start, fast group joins and low fetch latency."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=config.bootstrap_servers,
        client_id=config.client_id,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        fetch_max_wait_ms=config.fetch_max_wait_ms,
        max_poll_records=max_records,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


async def ensure_topics(
    config: BrokerConfig, topics: Iterable[TopicSpec], timeout_seconds: float = 30
) -> list[str]:
    """Create the topics that do not exist yet, with their partition counts; returns those created.

    Auto-created topics would get the broker's default partition count, so every topic is
    created here, at start, before anything produces to it.
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=config.bootstrap_servers, client_id=config.client_id
    )
    await asyncio.wait_for(admin.start(), timeout_seconds)
    try:
        response = await asyncio.wait_for(
            admin.create_topics(
                [
                    NewTopic(t.name, num_partitions=t.partitions, replication_factor=1)
                    for t in topics
                ]
            ),
            timeout_seconds,
        )
        return _created(response)
    finally:
        await admin.close()


async def create_topics_through(
    producer: AIOKafkaProducer, topics: Iterable[TopicSpec], timeout_seconds: float
) -> list[str]:
    """``ensure_topics`` on a producer's own connection: for a relay that finds itself on a
    new broker, which must create the topics before it publishes anything there.

    On the embedded broker a topic that does not exist yet is created by the first client
    that asks for its metadata; until then produce requests fail, and a few acknowledged in
    that window were seen missing from the log afterwards. Created here first, nothing is
    published into a topic that is still being made.
    """
    client = producer.client
    await asyncio.wait_for(client.force_metadata_update(), timeout_seconds)
    controller = client.cluster.controller
    node_id = (
        controller.nodeId
        if controller is not None
        else min(broker.nodeId for broker in client.cluster.brokers())
    )
    request = CreateTopicsRequest(
        create_topic_requests=[(t.name, t.partitions, 1, [], []) for t in topics],
        timeout=int(timeout_seconds * 1000),
        validate_only=False,
    )
    response = await asyncio.wait_for(client.send(node_id, request), timeout_seconds)
    return _created(response)


def _created(response: Any) -> list[str]:
    created: list[str] = []
    for name, error_code, *_ in response.topic_errors:
        if error_code == 0:
            created.append(name)
        elif error_code != TOPIC_ALREADY_EXISTS:
            raise RuntimeError(f"could not create topic {name}: error code {error_code}")
    return created
