"""The broker's log is not the record, the outbox is: after the log is lost, nothing is.

The embedded broker keeps its log in memory. A restart loses every record and every group
offset while producers and consumers keep running. Events recorded after the restart reach
the consumer by themselves: the restart forces a group rejoin, and on the embedded broker
every assignment reads the new log from its beginning. Events published before the restart
are gone from the broker; a replay from the outbox sends them again, and the inbox turns
everything already applied into a no-op.
"""

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
APPLIED_BEFORE_THE_RESTART = 20
APPLIED_AFTER_THE_RESTART = 10
RECORDING_PAUSE_SECONDS = 0.02


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
            await asyncio.sleep(RECORDING_PAUSE_SECONDS)

    event_path.start_relay(database)
    outcomes = Outcomes()
    await event_path.start_consumer(database, ApplyEffects(database), on_processed=outcomes)
    recorder = event_path.start("recorder", record_continuously)

    async def applied_before_the_restart() -> bool:
        return len(await database.effect_counts()) >= APPLIED_BEFORE_THE_RESTART

    await event_path.until(applied_before_the_restart, "events are applied before the restart")
    await asyncio.to_thread(broker.restart)
    recorded_after_restart = len(recorded)

    async def applied_after_the_restart() -> bool:
        counts = await database.effect_counts()
        later = [event.id for event in recorded[recorded_after_restart:]]
        return sum(1 for event_id in later if counts[event_id]) >= APPLIED_AFTER_THE_RESTART

    await event_path.until(
        applied_after_the_restart, "the relay and the consumer carry on against the new log"
    )
    await recorder.stop()

    async def drained() -> bool:
        return await database.backlog() == 0

    await event_path.until(drained, "the relay publishes everything recorded")

    applied_before_replay = set(await database.effect_counts())
    replayed = await replay(database.engine, database.outbox_table, since=test_started)
    # One more event per aggregate: it follows every replayed event of its aggregate on the
    # same partition, so once it is applied the consumer has seen all of them again.
    closing = await database.record(
        *(user_registered(aggregate, len(recorded)) for aggregate in aggregates)
    )
    everything = [event.id for event in [*recorded, *closing]]

    async def all_applied() -> bool:
        return await database.have_effects(everything)

    await event_path.until(all_applied, "every recorded event is applied")

    assert replayed == len(recorded)
    assert await database.effect_counts() == dict.fromkeys(everything, 1)
    assert applied_before_replay
    assert applied_before_replay <= outcomes.event_ids("duplicate")


async def test_after_a_broker_restart_events_recorded_later_are_applied_without_a_replay(
    database: EventingDatabase, event_path: EventPath, broker: EmbeddedBroker
) -> None:
    aggregates = [database.new_aggregate_id() for _ in range(AGGREGATES)]
    event_path.start_relay(database)
    await event_path.start_consumer(database, ApplyEffects(database))
    before = await database.record(*(user_registered(a, 0) for a in aggregates))

    async def applied_before() -> bool:
        return await database.have_effects(event.id for event in before)

    await event_path.until(applied_before, "events are applied before the restart")
    await asyncio.to_thread(broker.restart)
    after = await database.record(*(user_registered(a, n) for n in range(1, 4) for a in aggregates))

    async def applied_after() -> bool:
        return await database.have_effects(event.id for event in after)

    await event_path.until(applied_after, "everything recorded after the restart is applied")
    counts = await database.effect_counts()
    assert [counts[event.id] for event in after] == [1] * len(after)
