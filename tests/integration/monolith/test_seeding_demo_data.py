"""Seeding the demo data on PostgreSQL, as often as anyone likes."""

from __future__ import annotations

import pytest
from legacy_monolith.database import create_engine, create_session_factory
from legacy_monolith.migrate import upgrade_to_head
from legacy_monolith.seed import seed

from tests.integration.conftest import FreshDatabase
from tests.support.monolith_database import database_state

pytestmark = pytest.mark.integration


async def test_seeding_twice_changes_nothing_the_second_time(
    fresh_database: FreshDatabase,
) -> None:
    engine = create_engine(await fresh_database("monolith_seed", migrate=upgrade_to_head))
    sessions = create_session_factory(engine)
    try:
        first = await seed(sessions)
        seeded = await database_state(engine)
        second = await seed(sessions)
        reseeded = await database_state(engine)
    finally:
        await engine.dispose()

    assert (first, second) == ((3, 4), (3, 0))
    assert seeded.row_counts == {
        "users": 4,
        "plans": 3,
        "subscriptions": 3,
        "invoices": 3,
        "payments": 1,
        "refunds": 0,
        "notifications": 0,
        "notification_preferences": 0,
        "outbox": 0,
        "processed_events": 0,
    }
    assert reseeded == seeded
