"""What makes a producer write an event another component causes: an event given to it over
a real broker, as the producer that publishes it would, and the outbox row the producer
commits in answer (a consumer, a saga or a sender run in between, on their own time)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from embedded_broker import EmbeddedBroker
from pact.types import Message
from strangler_contracts import ALL_TOPICS, IntegrationEvent, encode
from strangler_eventing import BrokerConfig, create_producer, ensure_topics

from tests.support.serving import free_port

__all__ = ["answer_in_outbox", "as_message", "broker", "publish"]

ANSWER_TIMEOUT_SECONDS = 100.0


def _create_topics(embedded: EmbeddedBroker) -> None:
    asyncio.run(
        ensure_topics(BrokerConfig(bootstrap_servers=embedded.bootstrap_servers), ALL_TOPICS)
    )


@contextmanager
def broker() -> Iterator[EmbeddedBroker]:
    """The embedded broker on a free port, with every contract topic."""
    embedded = EmbeddedBroker(port=free_port(), after_start=_create_topics)
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


def publish(
    embedded: EmbeddedBroker,
    event: IntegrationEvent,
    source: str,
    correlation_id: str | None = None,
) -> None:
    """``event`` in its envelope on its topic, keyed by its subject, as its producer's relay
    puts it there."""

    async def send() -> None:
        producer = create_producer(BrokerConfig(bootstrap_servers=embedded.bootstrap_servers))
        await producer.start()
        try:
            envelope = encode(event, source=source, correlation_id=correlation_id)
            await producer.send_and_wait(
                event.topic, envelope.model_dump_json().encode(), key=envelope.subject.encode()
            )
        finally:
            await producer.stop()

    asyncio.run(send())


def answer_in_outbox(
    database: Path,
    event_type: str,
    about: Callable[[dict[str, Any]], bool],
    timeout: float = ANSWER_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """The first outbox row of ``event_type`` whose data ``about`` accepts, once the producer
    committed it: what its relay publishes."""
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(database) as connection:
            rows = connection.execute(
                "SELECT payload FROM outbox WHERE event_type = ? ORDER BY position",
                (event_type,),
            ).fetchall()
        for (payload,) in rows:
            envelope: dict[str, Any] = json.loads(payload)
            if about(envelope["data"]):
                return envelope
        assert time.monotonic() < deadline, f"no {event_type} in the outbox in {timeout:g} s"
        time.sleep(0.2)


def as_message(envelope: dict[str, Any]) -> Message:
    """An outbox row handed to Pact as the message on the wire."""
    return Message(
        contents=json.dumps(envelope).encode(), metadata=None, content_type="application/json"
    )
