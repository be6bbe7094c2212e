"""A consumer applies what one fetch brought in one transaction — all of it or none of it.

Every test records its events and lets the relay publish them all before the consumer starts,
so that the consumer's first fetch of the partition (one aggregate: one partition) holds the
whole batch; and of every partition, when a test's aggregates sit on several.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import CloudEvent
from strangler_contracts.topics import ACCOUNTS
from strangler_eventing import read_dead_letters

from tests.integration.eventing.conftest import (
    FAST_CONSUMER,
    ApplyEffects,
    EventingDatabase,
    EventPath,
    Outcomes,
    user_registered,
)
from tests.support.broker_records import event_id_in

pytestmark = pytest.mark.integration

EVENTS = 20
WHOLE_FETCH = replace(FAST_CONSUMER, max_batch=10_000)
"""Batches as large as what a fetch brings. The session's broker holds earlier tests' messages
on the same topic, and a fetch is cut at ``max_batch`` records across every partition: with a
few hundred of theirs beside this test's events, a batch of 100 could end in the middle of
this test's, and the test would see its own batch split where the consumer did not split it."""
POISON_AT = 7


class ConsumerKilled(BaseException):
    """The process dying: not an ``Exception``, so nothing in the consumer handles it."""


def _only(event_ids: set[str], counts: Counter[str]) -> dict[str, int]:
    return {event_id: n for event_id, n in counts.items() if event_id in event_ids}


async def _published_before_anyone_consumes(
    database: EventingDatabase,
    event_path: EventPath,
    aggregate: str | None = None,
    sequences: range = range(EVENTS),
    start_relay: bool = True,
) -> list[CloudEvent]:
    """Events of one aggregate (a new one by default), recorded in one transaction and all
    published (by a relay started here unless one runs already)."""
    aggregate = aggregate or database.new_aggregate_id()
    recorded: list[CloudEvent] = []
    async with database.sessions() as session, session.begin():
        for sequence in sequences:
            recorded.append(
                await database.outbox.record(session, user_registered(aggregate, sequence))
            )
    if start_relay:
        event_path.start_relay(database)

    async def all_published() -> bool:
        return await database.backlog() == 0

    await event_path.until(all_published, "the relay has published the batch")
    return recorded


async def test_a_poison_message_inside_a_batch_alone_is_dead_lettered_and_the_rest_applied_once(
    database: EventingDatabase, event_path: EventPath
) -> None:
    recorded = await _published_before_anyone_consumes(database, event_path)
    poison = recorded[POISON_AT]
    healthy = [event for event in recorded if event is not poison]
    handler = ApplyEffects(database)
    handler.failing.add(poison.id)
    outcomes = Outcomes()
    consumer, _ = await event_path.start_consumer(
        database, handler, on_processed=outcomes, settings=WHOLE_FETCH
    )

    async def settled() -> bool:
        return await database.have_effects(e.id for e in healthy) and bool(outcomes.of(poison.id))

    await event_path.until(settled, "the healthy events are applied and the poison settled")

    assert await database.effect_counts() == dict.fromkeys((e.id for e in healthy), 1)
    assert [event_id for _, event_id in await database.effects_in_order()] == [
        e.id for e in healthy
    ]
    assert outcomes.of(poison.id) == ["dead_lettered"]
    assert all(outcomes.of(event.id) == ["processed"] for event in healthy)
    # The group reads the shared topic from its start: other test files' malformed letters
    # (billing's registrations test) are dead-lettered by it too; only this test's count.
    mine = {event.id for event in recorded}
    letters = [
        letter
        for letter in await read_dead_letters(event_path.config, ACCOUNTS.name, 30.0)
        if letter.info.get("consumer-group") == consumer.group_id
        and event_id_in(letter.value) in mine
    ]
    assert [event_id_in(letter.value) for letter in letters] == [poison.id]
    assert letters[0].info["reason"] == "handler-failed"


class DiesMidBatch(ApplyEffects):
    """Applies the events like ``ApplyEffects``, but the process dies at the ``dying`` one."""

    def __init__(self, database: EventingDatabase, dying: str) -> None:
        super().__init__(database)
        self.dying = dying

    async def __call__(self, session: AsyncSession, event: Any, envelope: CloudEvent) -> None:
        await super().__call__(session, event, envelope)
        if envelope.id == self.dying:
            raise ConsumerKilled


async def test_a_consumer_dying_in_the_middle_of_a_batch_commits_none_of_it_and_loses_nothing(
    database: EventingDatabase, event_path: EventPath
) -> None:
    recorded = await _published_before_anyone_consumes(database, event_path)
    mine = {event.id for event in recorded}
    group = f"{database.tag}-batch"
    reported: list[str] = []

    async def report(record: ConsumerRecord[bytes, bytes], outcome: str) -> None:
        reported.append(f"{event_id_in(record.value)} {outcome}")

    _, first = await event_path.start_consumer(
        database,
        DiesMidBatch(database, recorded[POISON_AT].id),
        group=group,
        on_processed=report,
        settings=WHOLE_FETCH,
    )
    assert isinstance(await event_path.ended(first), ConsumerKilled)
    # The handler had applied the events before it in the same transaction: none committed.
    # (Other tests' events on the shared topic, read in earlier fetches, are not this batch.)
    assert _only(mine, await database.effect_counts()) == {}
    assert [line for line in reported if line.split()[0] in mine] == []

    second = Outcomes()
    await event_path.start_consumer(
        database, ApplyEffects(database), group=group, on_processed=second
    )

    async def all_applied() -> bool:
        return await database.have_effects(mine)

    await event_path.until(all_applied, "another consumer of the group applies the batch")
    assert _only(mine, await database.effect_counts()) == dict.fromkeys(mine, 1)
    assert [e for _, e in await database.effects_in_order() if e in mine] == [
        event.id for event in recorded
    ]
    assert second.event_ids("processed") & mine == mine


class DiesOnceEveryAggregateIsApplied(ApplyEffects):
    """Applies the events like ``ApplyEffects``; the process dies once it has applied an event
    of each of ``aggregates``."""

    def __init__(self, database: EventingDatabase, aggregates: set[str]) -> None:
        super().__init__(database)
        self.waiting = set(aggregates)

    async def __call__(self, session: AsyncSession, event: Any, envelope: CloudEvent) -> None:
        await super().__call__(session, event, envelope)
        self.waiting.discard(envelope.subject)
        if not self.waiting:
            raise ConsumerKilled


def _on_other_partitions(database: EventingDatabase) -> tuple[str, str]:
    """Two new aggregates whose events the relay publishes to different partitions."""
    partitions = list(range(ACCOUNTS.partitions))
    first = database.new_aggregate_id()
    where = DefaultPartitioner()(first.encode(), partitions, partitions)
    while True:
        second = database.new_aggregate_id()
        if DefaultPartitioner()(second.encode(), partitions, partitions) != where:
            return first, second


async def test_a_consumer_dying_in_the_middle_of_a_fetch_commits_nothing_of_any_partition(
    database: EventingDatabase, event_path: EventPath
) -> None:
    """Events of two aggregates on two partitions, fetched together: the first partition's
    events are not committed ahead of the second's, so a consumer that dies while applying
    the second's leaves nothing of the fetch applied, and the next applies it all once."""
    first, second = _on_other_partitions(database)
    recorded = await _published_before_anyone_consumes(
        database, event_path, first, range(EVENTS // 2)
    )
    recorded += await _published_before_anyone_consumes(
        database, event_path, second, range(EVENTS // 2, EVENTS), start_relay=False
    )
    mine = {event.id for event in recorded}
    group = f"{database.tag}-fetch"

    _, dying = await event_path.start_consumer(
        database,
        DiesOnceEveryAggregateIsApplied(database, {first, second}),
        group=group,
        settings=WHOLE_FETCH,
    )
    assert isinstance(await event_path.ended(dying), ConsumerKilled)
    assert _only(mine, await database.effect_counts()) == {}

    await event_path.start_consumer(database, ApplyEffects(database), group=group)

    async def all_applied() -> bool:
        return await database.have_effects(mine)

    await event_path.until(all_applied, "another consumer of the group applies the fetch")
    assert _only(mine, await database.effect_counts()) == dict.fromkeys(mine, 1)
    for aggregate in (first, second):
        assert [e for subject, e in await database.effects_in_order() if subject == aggregate] == [
            event.id for event in recorded if event.subject == aggregate
        ]


async def test_a_batch_read_again_with_a_poison_message_applies_each_new_event_once(
    database: EventingDatabase, event_path: EventPath
) -> None:
    """The group committed the first events' effects and died before its offset commit: the
    batch comes again, with a poison message further on. Nothing is applied twice, the rest
    once, in order, and only the poison message is dead-lettered."""
    recorded = await _published_before_anyone_consumes(database, event_path)
    group = f"{database.tag}-again"
    already, poison = recorded[: POISON_AT - 2], recorded[POISON_AT]
    async with database.sessions() as session, session.begin():  # what the first run committed
        for event in already:
            await session.execute(
                insert(database.inbox).values(
                    consumer_group=group,
                    event_id=event.id,
                    event_type=event.type,
                    processed_at=datetime.now(UTC),
                )
            )
            await session.execute(
                insert(database.effects).values(event_id=event.id, subject=event.subject)
            )
    handler = ApplyEffects(database)
    handler.failing.add(poison.id)
    outcomes = Outcomes()
    await event_path.start_consumer(
        database, handler, group=group, on_processed=outcomes, settings=WHOLE_FETCH
    )

    async def settled() -> bool:
        return all(outcomes.of(event.id) for event in recorded)

    await event_path.until(settled, "every event of the batch is settled")

    healthy = [event for event in recorded if event is not poison]
    assert await database.effect_counts() == dict.fromkeys((e.id for e in healthy), 1)
    assert [event_id for _, event_id in await database.effects_in_order()] == [
        e.id for e in healthy
    ]
    assert [outcomes.of(event.id) for event in already] == [["duplicate"]] * len(already)
    assert outcomes.of(poison.id) == ["dead_lettered"]
    assert all(outcomes.of(event.id) == ["processed"] for event in healthy if event not in already)


async def test_a_malformed_message_ends_a_batch_and_the_events_after_it_make_the_next_one(
    database: EventingDatabase, event_path: EventPath
) -> None:
    """Ten events, a malformed message on their partition, ten more: the first ten commit as
    one batch, the malformed message is dead-lettered alone, and the ten after it are one
    batch again — all or nothing — not taken one by one."""
    aggregate = database.new_aggregate_id()
    before = await _published_before_anyone_consumes(
        database, event_path, aggregate, range(EVENTS // 2)
    )
    producer = await event_path.started_producer()
    await producer.send_and_wait(ACCOUNTS.name, b"not a CloudEvent", key=aggregate.encode())
    after = await _published_before_anyone_consumes(
        database, event_path, aggregate, range(EVENTS // 2, EVENTS), start_relay=False
    )
    group = f"{database.tag}-split"

    _, first = await event_path.start_consumer(
        database, DiesMidBatch(database, after[3].id), group=group, settings=WHOLE_FETCH
    )
    assert isinstance(await event_path.ended(first), ConsumerKilled)
    mine = {event.id for event in before + after}
    assert _only(mine, await database.effect_counts()) == dict.fromkeys((e.id for e in before), 1)

    await event_path.start_consumer(database, ApplyEffects(database), group=group)

    async def all_applied() -> bool:
        return await database.have_effects(mine)

    await event_path.until(all_applied, "another consumer of the group applies the rest")
    assert _only(mine, await database.effect_counts()) == dict.fromkeys(mine, 1)
