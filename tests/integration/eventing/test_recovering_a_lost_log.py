"""The broker's log is not the record, the outbox is: a replay after the log is lost recovers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from embedded_broker import EmbeddedBroker
from strangler_contracts import CloudEvent
from strangler_eventing import replay

from tests.integration.eventing.conftest import (
    ApplyEffects,
    EventingDatabase,
    EventPath,
    Outcomes,
    user_registered,
)

pytestmark = pytest.mark.integration

AGGREGATES = 6


async def test_after_the_broker_loses_its_log_a_replay_applies_every_event_exactly_once(
    database: EventingDatabase, event_path: EventPath, broker: EmbeddedBroker
) -> None:
    test_started = datetime.now(UTC)
    aggregates = [database.new_aggregate_id() for _ in range(AGGREGATES)]
    recorded: list[CloudEvent] = []

    async def record_continuously(stop: asyncio.Event) -> None:
        while not stop.is_set():
            sequence = len(recorded)
            event = user_registered(aggregates[sequence % AGGREGATES], sequence)
            recorded.extend(await database.record(event))
            await asyncio.sleep(0.02)

    def recorded_ids() -> list[str]:
        return [event.id for event in recorded]

    event_path.start_relay(database)
    outcomes = Outcomes()
    await event_path.start_consumer(database, ApplyEffects(database), on_processed=outcomes)
    recorder = event_path.start("recorder", record_continuously)

    await event_path.until(
        lambda: _applied_at_least(database, 20), "the consumer applies events before the outage"
    )
    await asyncio.to_thread(broker.restart)
    recorded_before_restart = len(recorded)
    await event_path.until(
        lambda: database.have_effects(recorded_ids()[recorded_before_restart:][:20])
        if len(recorded) >= recorded_before_restart + 20
        else _false(),
        "events recorded after the restart are applied",
    )
    await recorder.stop()
    await event_path.until(_drained(database), "the relay drains the outbox")

    applied_before_replay = set(await database.effect_counts())
    replayed = await replay(database.engine, database.outbox_table, since=test_started)
    closing = await database.record(
        *(user_registered(aggregate, len(recorded)) for aggregate in aggregates)
    )
    everything = [*recorded_ids(), *(event.id for event in closing)]
    await event_path.until(
        lambda: database.have_effects(everything), "every recorded event is applied"
    )

    assert replayed == len(recorded)
    counts = await database.effect_counts()
    assert {event_id: counts[event_id] for event_id in everything} == dict.fromkeys(everything, 1)
    assert set(counts) == set(everything)
    # Each closing event follows every replayed event of its aggregate on its partition, so
    # by now every event applied before the replay has come back once more.
    assert applied_before_replay
    assert applied_before_replay <= outcomes.event_ids("duplicate")


async def _applied_at_least(database: EventingDatabase, count: int) -> bool:
    return len(await database.effect_counts()) >= count


async def _false() -> bool:
    return False


def _drained(database: EventingDatabase):  # type: ignore[no-untyped-def]
    async def drained() -> bool:
        return await database.backlog() == 0

    return drained
