"""The outbox and its relay: what a committed change records reaches the broker, in order,
through outages, once per relay fleet; replays and retention touch only what they should."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from embedded_broker import EmbeddedBroker
from prometheus_client import REGISTRY
from strangler_contracts import CloudEvent
from strangler_contracts.topics import ACCOUNTS
from strangler_eventing import RelaySettings, replay

from tests.integration.eventing.conftest import (
    FAST_RELAY,
    ApplyEffects,
    EventingDatabase,
    EventPath,
    records_on,
    user_registered,
)
from tests.support.broker_records import event_id_in

pytestmark = pytest.mark.integration

# A send waits a second for the broker before the relay backs off and tries again.
OUTAGE_RELAY = RelaySettings(idle_seconds=0.02, send_timeout_seconds=1.0, max_backoff_seconds=0.5)


async def test_events_recorded_with_a_change_are_published_in_order_per_key(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregates = [database.new_aggregate_id() for _ in range(3)]
    event_path.start_relay(database)
    await event_path.start_consumer(database, ApplyEffects(database))

    recorded: list[CloudEvent] = []
    for sequence in range(15):
        recorded += await database.record(user_registered(aggregates[sequence % 3], sequence))
    rolled_back = await database.record_and_roll_back(user_registered(aggregates[0], 15))
    for sequence in range(16, 31):
        recorded += await database.record(user_registered(aggregates[sequence % 3], sequence))

    async def all_applied() -> bool:
        return await database.have_effects(event.id for event in recorded)

    await event_path.until(all_applied, "every committed event is applied")

    applied = await database.effects_in_order()
    for aggregate in aggregates:
        assert [event_id for subject, event_id in applied if subject == aggregate] == [
            event.id for event in recorded if event.subject == aggregate
        ]
    # Events of its aggregate recorded after it are applied, so it would have been by now.
    assert rolled_back.id not in await database.outbox_rows()
    assert rolled_back.id not in {event_id for _, event_id in applied}
    on_the_topic = {
        event_id_in(r.value) for r in await records_on(event_path.config, ACCOUNTS.name)
    }
    assert rolled_back.id not in on_the_topic
    assert {event.id for event in recorded} <= on_the_topic


async def test_the_relay_keeps_going_through_a_broker_outage_and_drains_the_backlog(
    database: EventingDatabase, event_path: EventPath, broker: EmbeddedBroker
) -> None:
    aggregate = database.new_aggregate_id()
    relay, _ = event_path.start_relay(database, OUTAGE_RELAY)
    [before_the_outage] = await database.record(user_registered(aggregate, 0))

    async def drained() -> bool:
        return await database.backlog() == 0

    await event_path.until(drained, "the relay publishes while the broker is up")
    failures = REGISTRY.get_sample_value(
        "strangler_outbox_publish_failures_total", {"source": database.source}
    )

    await asyncio.to_thread(broker.stop)
    try:
        during: list[CloudEvent] = []
        for sequence in range(1, 11):
            during += await database.record(user_registered(aggregate, sequence))
        assert await database.backlog() == 10
        for sequence in range(11, 21):
            during += await database.record(user_registered(aggregate, sequence))
        assert await database.backlog() == 20

        await relay.update_metrics()
        backlog_gauge = {"source": database.source}
        assert REGISTRY.get_sample_value("strangler_outbox_backlog", backlog_gauge) == 20
        oldest_age = REGISTRY.get_sample_value(
            "strangler_outbox_oldest_unpublished_age_seconds", backlog_gauge
        )
        assert oldest_age is not None
        assert oldest_age > 0

        async def retrying() -> bool:
            now = REGISTRY.get_sample_value(
                "strangler_outbox_publish_failures_total", {"source": database.source}
            )
            return (now or 0) >= (failures or 0) + 2

        await event_path.until(retrying, "the relay keeps trying while the broker is away")
    finally:
        if not broker.running:
            await asyncio.to_thread(broker.start)

    await event_path.until(drained, "the backlog drains once the broker is back")
    # Started only now: a consumer running through the outage would resume from offsets of
    # the log the broker lost (see test_recovering_a_lost_log).
    await event_path.start_consumer(database, ApplyEffects(database))

    # The broker came back empty: the relay publishes again what it had acknowledged.
    everything = [before_the_outage, *during]

    async def all_applied() -> bool:
        return await database.have_effects(event.id for event in everything)

    await event_path.until(all_applied, "every event, also the one the lost log held, is applied")

    assert await database.effect_counts() == dict.fromkeys((e.id for e in everything), 1)
    await relay.update_metrics()
    assert REGISTRY.get_sample_value("strangler_outbox_backlog", {"source": database.source}) == 0


async def test_two_relays_on_postgres_never_publish_the_same_row_twice(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregates = [database.new_aggregate_id() for _ in range(5)]
    small_batches = RelaySettings(
        batch_size=20, idle_seconds=0.01, send_timeout_seconds=3.0, max_backoff_seconds=0.5
    )
    event_path.start_relay(database, small_batches)
    event_path.start_relay(database, small_batches)

    async def record_some(first: int) -> list[CloudEvent]:
        recorded: list[CloudEvent] = []
        for sequence in range(first, first + 100):
            recorded += await database.record(user_registered(aggregates[sequence % 5], sequence))
        return recorded

    recorded = [
        event for batch in await asyncio.gather(*map(record_some, (0, 100, 200))) for event in batch
    ]

    async def drained() -> bool:
        return await database.backlog() == 0

    await event_path.until(drained, "the two relays publish all 300 events")

    mine = {event.id for event in recorded}
    on_the_topic = Counter(
        event_id
        for record in await records_on(event_path.config, ACCOUNTS.name)
        if (event_id := event_id_in(record.value)) in mine
    )
    assert on_the_topic == dict.fromkeys(mine, 1)


async def test_replay_marks_only_the_requested_time_range(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregate = database.new_aggregate_id()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=4)
    hourly: list[CloudEvent] = []
    for hour in range(4):
        event = user_registered(aggregate, hour)
        hourly += await database.record(event, occurred_at=start + timedelta(hours=hour))
    _, first_relay = event_path.start_relay(database)

    async def drained() -> bool:
        return await database.backlog() == 0

    await event_path.until(drained, "the relay publishes the four events")
    await first_relay.stop()

    marked = await replay(
        database.engine,
        database.outbox_table,
        since=start + timedelta(hours=1),
        until=start + timedelta(hours=3),
    )

    assert marked == 2
    published = await database.outbox_rows()
    assert [published[event.id] is None for event in hourly] == [False, True, True, False]

    event_path.start_relay(database)
    await event_path.until(drained, "the relay publishes the replayed events again")
    on_the_topic = Counter(
        event_id_in(record.value) for record in await records_on(event_path.config, ACCOUNTS.name)
    )
    assert [on_the_topic[event.id] for event in hourly] == [1, 2, 2, 1]


async def test_the_relay_forgets_published_events_after_the_retention_but_never_unpublished_ones(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregate = database.new_aggregate_id()
    long_ago = datetime.now(UTC) - timedelta(days=2)
    published_long_ago = await database.record(
        *(user_registered(aggregate, sequence) for sequence in range(3))
    )
    await database.mark_published((event.id for event in published_long_ago), at=long_ago)
    never_published: list[CloudEvent] = []
    for sequence in range(3, 8):
        event = user_registered(aggregate, sequence)
        never_published += await database.record(event, occurred_at=long_ago)
    # One event per batch and a clean-up after every batch: clean-ups run while events
    # recorded two days ago still wait for the broker.
    event_path.start_relay(
        database,
        RelaySettings(
            batch_size=1,
            idle_seconds=FAST_RELAY.idle_seconds,
            retention=timedelta(days=1),
            cleanup_every_seconds=0,
        ),
    )

    async def cleaned_and_drained() -> bool:
        rows = await database.outbox_rows()
        return published_long_ago[0].id not in rows and await database.backlog() == 0

    await event_path.until(cleaned_and_drained, "old published events are forgotten")

    rows = await database.outbox_rows()
    assert set(rows) == {event.id for event in never_published}
    assert all(published_at is not None for published_at in rows.values())
