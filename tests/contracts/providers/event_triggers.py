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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from embedded_broker import EmbeddedBroker
from local_processes import ChildProcess
from pact.types import Message
from strangler_contracts import (
    ALL_TOPICS,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
    IntegrationEvent,
    encode,
)
from strangler_eventing import BrokerConfig, create_producer, ensure_topics

from tests.support.service_process import HOST, ServiceProcess, console_script, wait_until_ready
from tests.support.serving import free_port

__all__ = [
    "ACCOUNT_CLOSED",
    "ACCOUNT_CLOSURE_REQUESTED",
    "account_closed",
    "answer_in_outbox",
    "as_message",
    "billing_done",
    "broker",
    "closing",
    "publish",
    "smtp_sink",
]

ANSWER_TIMEOUT_SECONDS = 100.0
ACCOUNT_CLOSURE_REQUESTED = "dev.strangler-fig.accounts.account-closure-requested.v1"
ACCOUNT_CLOSED = "dev.strangler-fig.accounts.account-closed.v1"


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


def closing(url: str, bearer: dict[str, str], database: Path) -> dict[str, Any]:
    """The bearer's account closed through ``DELETE /api/users/me`` at an accounts side (the
    monolith or auth): the ``AccountClosureRequested`` it committed."""
    asked = httpx.delete(f"{url}/api/users/me", headers=bearer, timeout=60)
    assert asked.status_code == 202, asked.text
    closure_id = asked.json()["id"]
    return answer_in_outbox(
        database, ACCOUNT_CLOSURE_REQUESTED, lambda d: d["closure_id"] == closure_id, timeout=5
    )


def billing_done(closure_id: str, user_id: str) -> BillingClosedForAccount:
    """Billing's answer to a closure with nothing to refund, as billing writes it."""
    return BillingClosedForAccount(
        closure_id=closure_id,
        user_id=user_id,
        cancelled_subscription_id=None,
        refund_id=None,
        refunded_cents=0,
        currency=None,
        closed_at=datetime.now(UTC),
    )


def account_closed(
    embedded: EmbeddedBroker, url: str, bearer: dict[str, str], database: Path
) -> Message:
    """The bearer's account closed at an accounts side, billing's ``done`` and
    notifications' farewell given to it over the broker as those two publish them: the
    ``AccountClosed`` it then committed."""
    requested = closing(url, bearer, database)
    closure_id, user_id = requested["data"]["closure_id"], requested["data"]["user_id"]
    publish(embedded, billing_done(closure_id, user_id), "/billing", correlation_id=closure_id)
    farewell = FarewellSentAndDataErased(
        closure_id=closure_id,
        user_id=user_id,
        farewell_message_id=None,
        erased_records=0,
        erased_at=datetime.now(UTC),
    )
    publish(embedded, farewell, "/notifications", correlation_id=closure_id)
    return as_message(
        answer_in_outbox(database, ACCOUNT_CLOSED, lambda d: d["closure_id"] == closure_id)
    )


@contextmanager
def smtp_sink(log_dir: Path) -> Iterator[tuple[int, ServiceProcess]]:
    """The SMTP sink as a process of its own: its SMTP port, and the process (its HTTP API)."""
    smtp_port, http_port = free_port(), free_port()
    log_path = log_dir / "smtp-sink.log"
    with log_path.open("ab") as log:
        process = ChildProcess.start(
            [
                console_script("smtp-sink"),
                "serve",
                "--host",
                HOST,
                "--smtp-port",
                str(smtp_port),
                "--http-port",
                str(http_port),
            ],
            stdout=log,
        ).process
    sink = ServiceProcess("smtp-sink", process, http_port, log_path, "/health/ready")
    try:
        asyncio.run(wait_until_ready(sink))
        yield smtp_port, sink
    finally:
        sink.stop()
