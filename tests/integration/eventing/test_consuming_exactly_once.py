"""A consumer that dies between applying an event and committing its offset gets the event
again; the inbox, written in the same transaction as the effect, makes the repeat a no-op.

Events are applied a batch per transaction: what the first consumer had reported applied was
committed together with the rest of its batch, and the second finds the whole batch done."""

from __future__ import annotations

import pytest
from aiokafka import ConsumerRecord
from strangler_contracts import CloudEvent

from tests.integration.eventing.conftest import (
    ApplyEffects,
    EventingDatabase,
    EventPath,
    Outcomes,
    user_registered,
)
from tests.support.broker_records import event_id_in

pytestmark = pytest.mark.integration

EVENTS = 20
APPLIED_BEFORE_DYING = 8


class ConsumerKilled(BaseException):
    """The process dying: not an ``Exception``, so nothing in the consumer handles it."""


async def test_a_consumer_that_dies_after_its_effect_but_before_committing_does_not_apply_twice(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregate = database.new_aggregate_id()  # one aggregate: one partition, in order
    recorded: list[CloudEvent] = []
    for sequence in range(EVENTS):
        recorded += await database.record(user_registered(aggregate, sequence))
    mine = {event.id for event in recorded}
    event_path.start_relay(database)
    group = f"{database.tag}-billing"

    applied_by_the_first: list[str] = []

    async def die_after_some(record: ConsumerRecord[bytes, bytes], outcome: str) -> None:
        if event_id_in(record.value) in mine:
            applied_by_the_first.append(str(event_id_in(record.value)))
            if len(applied_by_the_first) == APPLIED_BEFORE_DYING:
                raise ConsumerKilled

    _, first = await event_path.start_consumer(
        database, ApplyEffects(database), group=group, on_processed=die_after_some
    )
    assert isinstance(await event_path.ended(first), ConsumerKilled)
    committed_by_the_first = set(await database.effect_counts())
    assert set(applied_by_the_first) <= committed_by_the_first
    assert await database.effect_counts() == dict.fromkeys(committed_by_the_first, 1)

    second_outcomes = Outcomes()
    await event_path.start_consumer(
        database, ApplyEffects(database), group=group, on_processed=second_outcomes
    )

    died_after = applied_by_the_first[-1]

    async def all_applied() -> bool:
        return await database.have_effects(mine) and bool(second_outcomes.of(died_after))

    await event_path.until(all_applied, "the second consumer reads it again and applies the rest")

    assert await database.effect_counts() == dict.fromkeys(mine, 1)
    assert second_outcomes.of(died_after) == ["duplicate"]
    assert second_outcomes.event_ids("duplicate") & mine <= committed_by_the_first
    assert second_outcomes.event_ids("processed") & mine == mine - committed_by_the_first
