"""``<deployable> outbox status | replay``, the operator commands every producer shares."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import MetaData, Table, update
from strangler_contracts import UserRegistered
from strangler_eventing import Outbox, outbox_commands, outbox_table
from strangler_persistence import create_engine, create_session_factory, utcnow
from typer.testing import CliRunner

METADATA = MetaData()
OUTBOX = outbox_table(METADATA)


async def _outbox_with_one_published_event(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        async with create_session_factory(engine)() as session, session.begin():
            event = UserRegistered(
                user_id="u1", email="u1@example.com", display_name="U", registered_at=utcnow()
            )
            await Outbox(OUTBOX, "/tests").record(session, event)
        async with engine.begin() as connection:
            await connection.execute(update(OUTBOX).values(published_at=utcnow()))
    finally:
        await engine.dispose()


def _table() -> Table:
    return OUTBOX


def test_replay_marks_the_range_unpublished_and_status_then_counts_it(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    asyncio.run(_outbox_with_one_published_event(database_url))
    commands = outbox_commands(lambda: database_url, _table)
    runner = CliRunner()

    before = runner.invoke(commands, ["status"])
    replayed = runner.invoke(commands, ["replay", "--since", "2000-01-01T00:00:00"])
    after = runner.invoke(commands, ["status"])

    assert before.output.strip() == "0 unpublished events"
    assert replayed.output.strip() == "1 events marked for re-publishing"
    assert after.output.startswith("1 unpublished events, oldest from ")
