"""Accounts migrated with an older hash (PBKDF2-SHA256) log in, and their hash is replaced
with argon2id at that login; the password stays the same, so no token is revoked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from auth_service.adapters.orm import users
from sqlalchemy import insert, select
from strangler_identity import pbkdf2_sha256_hash
from strangler_persistence import create_engine

from tests.support.auth_api import assert_problem, log_in, unique_email

pytestmark = pytest.mark.integration

PASSWORD = "an-old-password"


async def _migrated_user(database_url: str) -> tuple[str, str]:
    """A user as the data migration writes one: the monolith's row, its hash as it was."""
    user_id, email = str(uuid.uuid4()), unique_email("older")
    joined = datetime.now(UTC) - timedelta(days=400)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(users).values(
                    id=user_id, email=email, email_key=email, name="Older",
                    password_hash=pbkdf2_sha256_hash(PASSWORD, salt="salt-of-old", iterations=1000),
                    password_changed_at=joined, created_at=joined, updated_at=joined,
                    origin="legacy-monolith", version=1,
                )
            )  # fmt: skip
    finally:
        await engine.dispose()
    return user_id, email


async def _stored_hash(database_url: str, user_id: str) -> tuple[str, datetime, str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(users.c.password_hash, users.c.password_changed_at, users.c.origin)
                    .where(users.c.id == user_id)
                )
            ).one()  # fmt: skip
    finally:
        await engine.dispose()
    return row.password_hash, row.password_changed_at, row.origin


async def test_an_older_hash_logs_in_and_is_upgraded_to_argon2id(
    auth: httpx.AsyncClient, auth_database: str
) -> None:
    user_id, email = await _migrated_user(auth_database)
    _, changed_before, _ = await _stored_hash(auth_database, user_id)

    first = await log_in(auth, email, PASSWORD)
    upgraded, changed_after, origin = await _stored_hash(auth_database, user_id)
    second = await log_in(auth, email, PASSWORD)
    first_token_still = await auth.get(
        "/api/users/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"}
    )

    assert first.status_code == 200, first.text
    assert upgraded.startswith("$argon2id$")
    assert changed_after == changed_before
    assert origin == "auth"
    assert second.status_code == 200
    assert first_token_still.status_code == 200


async def test_a_wrong_password_leaves_an_older_hash_as_it_is(
    auth: httpx.AsyncClient, auth_database: str
) -> None:
    user_id, email = await _migrated_user(auth_database)

    refused = await log_in(auth, email, "not-the-old-password")
    stored, _, _ = await _stored_hash(auth_database, user_id)

    assert_problem(refused, 401, "invalid-credentials")
    assert stored.startswith("pbkdf2_sha256$1000$")
