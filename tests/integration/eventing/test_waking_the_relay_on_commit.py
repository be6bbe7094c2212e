"""A committed event wakes the relay: it is published without the relay polling for it.

Each relay here reads its outbox only every ten minutes once idle, far beyond the test's
patience, so an event recorded after it went idle reaches the broker within the test only if
its commit woke the relay: by NOTIFY from a writer that shares nothing with the relay but the
database, or by the in-process doorbell on SQLite. An event rolled back is never published.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_eventing import Outbox, OutboxRelay, RelaySettings, create_producer, outbox_table
from strangler_eventing.commit_signal import notifications_requested
from strangler_persistence import create_engine, create_session_factory

from tests.integration.eventing.conftest import EventingDatabase, EventPath, user_registered

pytestmark = pytest.mark.integration

HARDLY_POLLING = RelaySettings(
    idle_seconds=600, listening_poll_seconds=600, send_timeout_seconds=3.0, max_backoff_seconds=0.5
)


async def test_a_commit_by_another_writer_wakes_a_listening_relay_on_postgresql(
    database: EventingDatabase, event_path: EventPath
) -> None:
    relay, _ = event_path.start_relay(database, HARDLY_POLLING)

    async def idle_and_listening() -> bool:
        return relay.commit_signal.listening and relay.commit_signal.idle_waits > 0

    await event_path.until(idle_and_listening, "the relay LISTENs and has gone idle")

    # Another writer: its own engine and its own Table object, as another process would have.
    elsewhere = create_engine(database.engine.url.render_as_string(hide_password=False))
    try:
        other_outbox = Outbox(outbox_table(MetaData()), database.source)
        sessions = create_session_factory(elsewhere)
        async with sessions() as session:
            rolled_back = await other_outbox.record(
                session, user_registered(database.new_aggregate_id())
            )
            await session.rollback()
        async with sessions() as session, session.begin():
            recorded = await other_outbox.record(
                session, user_registered(database.new_aggregate_id())
            )
    finally:
        await elsewhere.dispose()

    async def published() -> bool:
        return (await database.outbox_rows()).get(recorded.id) is not None

    await event_path.until(published, "the committed event is published without a poll")
    assert rolled_back.id not in await database.outbox_rows()


async def test_while_its_own_relay_leads_the_outbox_a_commit_does_not_notify_on_postgresql(
    database: EventingDatabase, event_path: EventPath
) -> None:
    relay, running = event_path.start_relay(database, HARDLY_POLLING)

    async def idle_and_listening() -> bool:
        return relay.commit_signal.listening and relay.commit_signal.idle_waits > 0

    await event_path.until(idle_and_listening, "the relay leads, LISTENs and has gone idle")
    table, engine = database.outbox_table, database.engine
    before = notifications_requested(table, engine)
    [recorded] = await database.record(user_registered(database.new_aggregate_id()))

    async def published() -> bool:
        return (await database.outbox_rows()).get(recorded.id) is not None

    await event_path.until(published, "the event is published, woken by the doorbell")
    assert notifications_requested(table, engine) == before  # the relay here leads: no NOTIFY

    await running.stop()  # no relay of this process leads any more: relays elsewhere must hear
    await database.record(user_registered(database.new_aggregate_id()))
    assert notifications_requested(table, engine) == before + 1


async def test_on_sqlite_a_commit_in_the_relays_own_process_wakes_it(
    tmp_path: Path, event_path: EventPath
) -> None:
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        relay = OutboxRelay(
            engine, table, create_producer(event_path.config), "/tests/waking", HARDLY_POLLING
        )
        event_path.start("sqlite relay", relay.run)

        async def idle() -> bool:
            return relay.commit_signal.idle_waits > 0

        await event_path.until(idle, "the relay has read its empty outbox and gone idle")
        outbox = Outbox(table, "/tests/waking")
        async with create_session_factory(engine)() as session, session.begin():
            for n in range(3):
                await outbox.record(session, user_registered(f"waking-{n}"))

        async def all_published() -> bool:
            return await _published(engine, table) == 3

        await event_path.until(all_published, "the three events are published without a poll")
        assert not relay.commit_signal.listening  # no LISTEN on SQLite: the doorbell woke it
    finally:
        await event_path.close()
        await engine.dispose()


async def _published(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(
            select(func.count()).where(table.c.published_at.is_not(None))
        )
    return int(count or 0)
