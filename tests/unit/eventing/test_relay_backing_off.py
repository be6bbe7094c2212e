"""The outbox relay backs off while the broker is away, however long it stays away."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaConnectionError
from sqlalchemy import MetaData
from strangler_eventing import OutboxRelay, RelaySettings, outbox_table
from strangler_persistence import create_engine

LONG_OUTAGE = 1100
"""Failures in a row: more than a float's exponent allows for ``2**failures`` (1024), about
an hour and a half of a broker away at the longest backoff."""


class UnreachableBroker:
    """A producer whose broker never answers; it stops the relay after ``failures`` tries."""

    def __init__(self, failures: int, stop: asyncio.Event) -> None:
        self.left = failures
        self.stop = stop

    async def start(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.stop.set()
        raise KafkaConnectionError("no broker")


async def test_a_relay_keeps_retrying_through_a_long_outage() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    stop = asyncio.Event()
    broker = UnreachableBroker(LONG_OUTAGE, stop)
    relay = OutboxRelay(
        engine,
        outbox_table(MetaData()),
        broker,
        "test",
        RelaySettings(max_backoff_seconds=0.0),
    )
    try:
        await relay.run(stop)  # raised OverflowError after 1024 failures
    finally:
        await engine.dispose()

    assert broker.left == 0
