"""The broker's log is not the record, the outbox is: after the log is lost, nothing is.

The embedded broker keeps its log in memory. A restart loses every record and every group
offset while producers and consumers keep running. Nobody has to replay anything: the relay
notices the broker is a new one (its cluster id changed, or, under a fixed cluster id, the
offsets it is acknowledged went backwards) and publishes again, oldest first, everything its
outbox holds; the consumer rejoins and reads the new log from its beginning; the inbox turns
everything already applied into a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from embedded_broker import EmbeddedBroker
from strangler_contracts import CloudEvent

from tests.integration.conftest import _free_port, create_every_topic
from tests.integration.eventing.conftest import (
    ApplyEffects,
    EventingDatabase,
    EventPath,
    Outcomes,
    user_registered,
)

pytestmark = pytest.mark.integration

AGGREGATES = 6
PUBLISHED_BEFORE_THE_RESTART = 30
RECORDED_AFTER_THE_RESTART = 12
TANSU_DEFAULT_CLUSTER_ID = "tansu_cluster"


@pytest.fixture
async def restarted_under_the_same_cluster_id() -> AsyncIterator[EmbeddedBroker]:
    """A broker of this test's own that keeps one cluster id across restarts, as a
    supervisor running the same command line again does."""
    broker = EmbeddedBroker(
        port=_free_port(), after_start=create_every_topic, cluster_id=TANSU_DEFAULT_CLUSTER_ID
    )
    await asyncio.to_thread(broker.start)
    try:
        yield broker
    finally:
        await asyncio.to_thread(broker.stop)


async def _a_consumer_behind_the_lost_log_applies_everything_without_a_replay(
    database: EventingDatabase, event_path: EventPath, broker: EmbeddedBroker
) -> None:
    aggregates = [database.new_aggregate_id() for _ in range(AGGREGATES)]
    event_path.start_relay(database)
    before = await database.record(
        *(
            user_registered(aggregates[n % AGGREGATES], n)
            for n in range(PUBLISHED_BEFORE_THE_RESTART)
        )
    )

    async def drained() -> bool:
        return await database.backlog() == 0

    # Published and acknowledged, but nobody has read them yet: then the log is lost.
    await event_path.until(drained, "the relay publishes everything before the restart")
    await asyncio.to_thread(broker.restart)

    outcomes = Outcomes()
    await event_path.start_consumer(database, ApplyEffects(database), on_processed=outcomes)
    after: list[CloudEvent] = []
    for n in range(RECORDED_AFTER_THE_RESTART):
        after += await database.record(user_registered(aggregates[n % AGGREGATES], n))
    everything = [event.id for event in [*before, *after]]

    async def all_applied() -> bool:
        return await database.have_effects(everything)

    await event_path.until(all_applied, "every event, before and after the restart, is applied")

    assert await database.effect_counts() == dict.fromkeys(everything, 1)
    assert outcomes.event_ids("dead_lettered") == set()


async def test_a_consumer_behind_when_the_broker_loses_its_log_applies_everything_without_a_replay(
    database: EventingDatabase, event_path: EventPath, broker: EmbeddedBroker
) -> None:
    await _a_consumer_behind_the_lost_log_applies_everything_without_a_replay(
        database, event_path, broker
    )


async def test_a_broker_restarted_under_the_same_cluster_id_is_told_by_its_offsets(
    database: EventingDatabase, restarted_under_the_same_cluster_id: EmbeddedBroker
) -> None:
    event_path = EventPath(restarted_under_the_same_cluster_id)
    try:
        await _a_consumer_behind_the_lost_log_applies_everything_without_a_replay(
            database, event_path, restarted_under_the_same_cluster_id
        )
    finally:
        await event_path.close()


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
    assert [counts[event.id] for event in before + after] == [1] * (len(before) + len(after))
