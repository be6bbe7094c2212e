"""Seeding the demo data on PostgreSQL, as often as anyone likes."""

from __future__ import annotations

import httpx
import pytest
from legacy_monolith.database import create_engine, create_session_factory
from legacy_monolith.migrate import upgrade_to_head
from legacy_monolith.models import User
from legacy_monolith.seed import DEMO_PASSWORD, DEMO_USERS, seed
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_identity import scheme_of

from tests.integration.conftest import FreshDatabase
from tests.support.monolith_api import log_in
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
        "outbox": 8,  # each user's UserRegistered and UserAccountChanged, once
        "account_closures": 0,
        "processed_events": 0,
    }
    assert reseeded == seeded


async def test_every_seeded_demo_user_logs_in_with_the_published_demo_password(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    await seed(create_session_factory(engine))

    for demo in DEMO_USERS:
        login = await log_in(client, demo.email, DEMO_PASSWORD)
        assert login.status_code == 200, (demo.email, login.text)
        assert (await log_in(client, demo.email, "not-the-demo-password")).status_code == 401


async def test_part_of_the_demo_users_carry_an_older_pbkdf2_hash_and_still_log_in(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    await seed(create_session_factory(engine))
    async with engine.connect() as connection:
        hashes = dict((await connection.execute(select(User.email, User.password_hash))).all())

    schemes = {email: scheme_of(hashes[email]) for email in (d.email for d in DEMO_USERS)}
    older = [email for email, scheme in schemes.items() if scheme == "pbkdf2_sha256"]
    assert 0 < len(older) < len(DEMO_USERS)
    assert set(schemes.values()) == {"argon2id", "pbkdf2_sha256"}
    for email in older:
        assert (await log_in(client, email, DEMO_PASSWORD)).status_code == 200
