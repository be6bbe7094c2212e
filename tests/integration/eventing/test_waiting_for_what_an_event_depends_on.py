"""An event that arrives before what it depends on waits for it: parked, not dead-lettered,
and not holding its partition; applied as soon as what it needs is there. Only an event
whose dependency never comes is dead-lettered, once its wait is over."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
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

READ_SECONDS = 30.0


class ParentNotHereYet(LookupError):
    """What the handler raises for an event whose parent has not been applied yet."""


class ApplyAfterParents(ApplyEffects):
    """Applies an event only once the event it names as its parent was applied."""

    def __init__(self, database: EventingDatabase) -> None:
        super().__init__(database)
        self.parent_of: dict[str, str] = {}

    async def __call__(self, session: AsyncSession, event: Any, envelope: CloudEvent) -> None:
        parent = self.parent_of.get(envelope.id)
        if parent is not None:
            effects = self.database.effects
            found = await session.scalar(
                select(effects.c.event_id).where(effects.c.event_id == parent)
            )
            if found is None:
                raise ParentNotHereYet(f"{envelope.id} needs {parent}")
        await super().__call__(session, event, envelope)


async def test_an_event_before_its_parent_waits_for_it_without_holding_back_the_events_behind(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregate = database.new_aggregate_id()
    handler = ApplyAfterParents(database)
    outcomes = Outcomes()
    [child, *behind] = await database.record(*(user_registered(aggregate, n) for n in range(4)))
    parent = user_registered(aggregate, 99)
    event_path.start_relay(database)
    handler.parent_of[child.id] = "not recorded yet"
    await event_path.start_consumer(
        database, handler, on_processed=outcomes, waits_for=(ParentNotHereYet,)
    )

    async def behind_applied() -> bool:
        return await database.have_effects(event.id for event in behind)

    await event_path.until(behind_applied, "the events behind the waiting one are applied")
    assert child.id not in await database.effect_counts()

    [recorded_parent] = await database.record(parent)
    handler.parent_of[child.id] = recorded_parent.id

    async def child_applied() -> bool:
        return await database.have_effects([child.id])

    await event_path.until(child_applied, "the waiting event is applied once its parent is")

    applied = [event_id for _, event_id in await database.effects_in_order()]
    assert applied == [*(event.id for event in behind), recorded_parent.id, child.id]
    assert outcomes.of(child.id) == ["processed"]
    # Earlier tests' poison on the session's broker is this group's to dead-letter too.
    mine = {child.id, *(event.id for event in behind), recorded_parent.id}
    assert outcomes.event_ids("dead_lettered") & mine == set()


async def test_an_event_whose_parent_never_comes_is_dead_lettered_once_its_wait_is_over(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregate = database.new_aggregate_id()
    handler = ApplyAfterParents(database)
    outcomes = Outcomes()
    [orphan] = await database.record(user_registered(aggregate, 0))
    handler.parent_of[orphan.id] = "never recorded"
    event_path.start_relay(database)
    consumer, _ = await event_path.start_consumer(
        database,
        handler,
        on_processed=outcomes,
        settings=replace(FAST_CONSUMER, wait_for_dependencies_seconds=1.0),
        waits_for=(ParentNotHereYet,),
    )

    async def given_up() -> bool:
        return outcomes.of(orphan.id) == ["dead_lettered"]

    await event_path.until(given_up, "the orphan is dead-lettered after its wait")
    [letter] = [
        letter
        for letter in await read_dead_letters(event_path.config, ACCOUNTS.name, READ_SECONDS)
        if letter.info.get("consumer-group") == consumer.group_id
        and event_id_in(letter.value) == orphan.id
    ]
    assert letter.info["reason"] == "dependency-missing"
    assert "never recorded" in letter.info["error"]
