"""Moving accounts to auth, for real: the monolith and the auth service, each on a fresh
PostgreSQL database, served on real ports (auth reads the monolith's export over HTTP), each
publishing its account changes through its outbox to a broker of the test's own and applying
the other's (two-way sync).

The demo users are backfilled with their hashes as they are — two of them in the older
PBKDF2-SHA256 scheme — then people register, rename themselves and change passwords on
either side, and both sides end holding the same accounts: each person logs in on either
side with the password they last chose, and `strangler migrate auth verify` finds no drift.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from auth_service.adapters.migrate import upgrade_to_head as upgrade_auth
from auth_service.entrypoints.app import create_app as create_auth
from auth_service.settings import AuthSettings
from embedded_broker import EmbeddedBroker
from legacy_monolith.app import build_runtime
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.database import create_session_factory
from legacy_monolith.migrate import upgrade_to_head as upgrade_monolith
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.seed import DEMO_PASSWORD, DEMO_USERS, seed
from legacy_monolith.settings import MonolithSettings
from local_processes import AsyncChildProcess
from sqlalchemy import text
from strangler_contracts.user_records import USERS
from strangler_identity import PasswordHashing, scheme_of
from strangler_migration import (
    BackfillProgress,
    EntityChecksums,
    EntityDrift,
    RecordsFound,
    compare_checksums,
)
from strangler_persistence import create_engine

from tests.integration.billing_service.conftest import JWT_SECRET
from tests.integration.conftest import FreshDatabase, create_every_topic
from tests.support.auth_api import FAST_PASSWORDS
from tests.support.monolith_api import unique_email
from tests.support.operator import OPERATOR_HEADERS, OPERATOR_TOKEN
from tests.support.polling import eventually
from tests.support.serving import free_port, serving

pytestmark = pytest.mark.integration

SYNC_WITHIN_SECONDS = 60.0
MAX_BACKFILL_CALLS = 20
CLI_TIMEOUT_SECONDS = 60
FIRST_PASSWORD = "first-password-1"
SECOND_PASSWORD = "second-password-2"
ACCOUNT_CHANGED = "dev.strangler-fig.accounts.user-account-changed.v1"
FAST_MONOLITH_PASSWORDS = PasswordHashing(
    PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
)


@dataclass(frozen=True)
class Sides:
    monolith: httpx.AsyncClient
    auth: httpx.AsyncClient
    monolith_url: str
    auth_url: str
    monolith_database: str
    auth_database: str


@pytest.fixture
async def sides(fresh_database: FreshDatabase) -> AsyncIterator[Sides]:
    """Both sides with their outbox relays and their syncs on, the monolith seeded."""
    monolith_db = await fresh_database("monolith", migrate=upgrade_monolith)
    auth_db = await fresh_database("auth", migrate=upgrade_auth)
    engine = create_engine(monolith_db)
    try:
        await seed(create_session_factory(engine))
    finally:
        await engine.dispose()
    broker = EmbeddedBroker(port=free_port(), after_start=create_every_topic)
    broker.start()
    try:
        monolith_settings = MonolithSettings(
            database_url=monolith_db,
            jwt_secret=JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            auth_sync_enabled=True,
        )

        def fast_runtime(settings: MonolithSettings) -> Runtime:
            runtime = build_runtime(settings, mailer=RecordingMailer())
            return dataclasses.replace(runtime, passwords=FAST_MONOLITH_PASSWORDS)

        monolith_app = create_monolith(monolith_settings, runtime_factory=fast_runtime)
        async with serving(monolith_app) as monolith_url:
            auth_settings = AuthSettings(
                database_url=auth_db,
                operator_token=OPERATOR_TOKEN,
                key_cache_seconds=0,
                kafka_bootstrap_servers=broker.bootstrap_servers,
                outbox_relay_enabled=True,
                legacy_sync_enabled=True,
                monolith_url=monolith_url,
                backfill_page_size=2,
            )
            auth_app = create_auth(auth_settings, passwords=FAST_PASSWORDS)
            async with (
                serving(auth_app) as auth_url,
                httpx.AsyncClient(base_url=monolith_url, timeout=30) as monolith,
                httpx.AsyncClient(base_url=auth_url, timeout=30) as auth,
            ):
                yield Sides(monolith, auth, monolith_url, auth_url, monolith_db, auth_db)
    finally:
        broker.stop()


# What people do, on either side.


async def _register(client: httpx.AsyncClient, who: str) -> tuple[str, str]:
    email = unique_email(who)
    body = {"email": email, "password": FIRST_PASSWORD, "name": who.title()}
    answer = await client.post("/api/users", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], email


async def _log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def _token(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    answer = await _log_in(client, email, password)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _logs_in(client: httpx.AsyncClient, email: str, password: str) -> bool:
    return (await _log_in(client, email, password)).status_code == 200


async def _change_password(client: httpx.AsyncClient, email: str, old: str, new: str) -> None:
    body = {"current_password": old, "new_password": new}
    headers = await _token(client, email, old)
    answer = await client.post("/api/users/me/password", json=body, headers=headers)
    assert answer.status_code == 204, answer.text


async def _rename(client: httpx.AsyncClient, email: str, password: str, name: str) -> None:
    headers = await _token(client, email, password)
    answer = await client.patch("/api/users/me", json={"name": name}, headers=headers)
    assert answer.status_code == 200, answer.text


async def _arrived(
    client: httpx.AsyncClient, user_id: str, email: str, password: str, where: str
) -> None:
    """The account reached ``client``'s side, and logs in there. Waited for through the
    records endpoint, not by logging in again and again: failed logins are throttled."""

    async def present() -> bool:
        return bool(await _records(client, [user_id]))

    await eventually(present, f"{email} reaches {where}", SYNC_WITHIN_SECONDS, every=0.3)
    assert await _logs_in(client, email, password), f"{email} logs in at {where}"


# Both sides through their data-migration endpoints.


async def _backfill(auth: httpx.AsyncClient) -> BackfillProgress:
    for _ in range(MAX_BACKFILL_CALLS):
        answer = await auth.post(
            "/internal/migration/auth/backfill", params={"pages": 1}, headers=OPERATOR_HEADERS
        )
        assert answer.status_code == 200, answer.text
        progress = BackfillProgress.model_validate_json(answer.content)
        if progress.finished:
            return progress
    raise AssertionError(f"the backfill did not finish in {MAX_BACKFILL_CALLS} calls")


async def _checksums(client: httpx.AsyncClient) -> EntityChecksums:
    answer = await client.get(f"/internal/auth/checksums/{USERS}", headers=OPERATOR_HEADERS)
    assert answer.status_code == 200, answer.text
    return EntityChecksums.model_validate_json(answer.content)


async def _in_sync(sides: Sides) -> None:
    last: list[EntityDrift] = []

    async def no_drift() -> bool:
        nonlocal last
        drift = compare_checksums(await _checksums(sides.monolith), await _checksums(sides.auth))
        last = [drift] if drift.drifted else []
        return not last

    try:
        await eventually(no_drift, "both sides hold the same accounts", SYNC_WITHIN_SECONDS, 0.3)
    except AssertionError as exc:
        shown = [
            await _records(client, d.differing)
            for d in last
            for client in (sides.monolith, sides.auth)
        ]
        raise AssertionError(f"{exc}; still drifted: {last!r} {shown}"[:6000]) from None


async def _records(client: httpx.AsyncClient, ids: list[str]) -> list[object]:
    answer = await client.post(
        f"/internal/auth/records/{USERS}", json={"ids": ids}, headers=OPERATOR_HEADERS
    )
    return [
        (r.version, r.origin, r.data)
        for r in RecordsFound.model_validate_json(answer.content).records
    ]


async def _hash_scheme(client: httpx.AsyncClient, user_id: str) -> str:
    answer = await client.post(
        f"/internal/auth/records/{USERS}", json={"ids": [user_id]}, headers=OPERATOR_HEADERS
    )
    assert answer.status_code == 200, answer.text
    (record,) = RecordsFound.model_validate_json(answer.content).records
    return scheme_of(record.data["password_hash"])


async def _account_events(database: str, *user_ids: str) -> tuple[int, ...]:
    """How many account records each user's changes put in one side's outbox."""
    engine = create_engine(database)
    statement = text("SELECT count(*) FROM outbox WHERE event_type = :type AND key = :key")
    try:
        async with engine.connect() as connection:
            counts = []
            for key in user_ids:
                found = await connection.scalar(statement, {"type": ACCOUNT_CHANGED, "key": key})
                counts.append(int(found or 0))
            return tuple(counts)
    finally:
        await engine.dispose()


async def _strangler(sides: Sides, state_dir: Path, *args: str) -> tuple[int, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRANGLER_")}
    env |= {
        "STRANGLER_STATE_DIR": str(state_dir),
        "STRANGLER_MONOLITH_URL": sides.monolith_url,
        "STRANGLER_AUTH_URL": sides.auth_url,
        "STRANGLER_GATEWAY_ADMIN_TOKEN": OPERATOR_TOKEN,
        "COLUMNS": "200",
    }
    child = await AsyncChildProcess.start(
        [sys.executable, "-m", "strangler_runner", *args], env=env
    )
    try:
        out, err = await asyncio.wait_for(child.process.communicate(), CLI_TIMEOUT_SECONDS)
    finally:
        await child.stop()
    assert child.returncode is not None
    return child.returncode, out.decode() + err.decode()


async def test_accounts_changed_on_both_sides_end_the_same_and_log_in_on_either_side(
    sides: Sides, tmp_path: Path
) -> None:
    monolith, auth = sides.monolith, sides.auth
    demo = {user.email: user for user in DEMO_USERS}
    older = [user.email for user in DEMO_USERS if user.older_hash]
    alice, carol, dave = "alice@example.com", "carol@example.com", "dave@example.com"
    assert {carol, dave} <= set(older)
    assert alice in demo

    progress = await _backfill(auth)
    assert [(e.entity, e.scanned, e.written) for e in progress.entities] == [
        (USERS, len(DEMO_USERS), len(DEMO_USERS))
    ]
    await _in_sync(sides)
    for email in demo:  # hashes moved as they are, older schemes included (Dave's: later)
        if email != dave:
            assert await _logs_in(auth, email, DEMO_PASSWORD), email

    # Traffic on both sides, each change on the side that serves it.
    mo_id, mo = await _register(monolith, "mo")
    au_id, au = await _register(auth, "au")
    await _rename(monolith, alice, DEMO_PASSWORD, "Alice at the monolith")
    await _change_password(auth, carol, DEMO_PASSWORD, SECOND_PASSWORD)
    await _arrived(auth, mo_id, mo, FIRST_PASSWORD, "auth")
    await _arrived(monolith, au_id, au, FIRST_PASSWORD, "the monolith")
    await _rename(auth, mo, FIRST_PASSWORD, "Mo at auth")
    await _change_password(monolith, au, FIRST_PASSWORD, SECOND_PASSWORD)
    await _in_sync(sides)

    # Everyone logs in on either side with the password they last chose, and only with it.
    for client in (monolith, auth):
        assert await _logs_in(client, au, SECOND_PASSWORD)
        assert not await _logs_in(client, au, FIRST_PASSWORD)
        assert await _logs_in(client, carol, SECOND_PASSWORD)
        assert not await _logs_in(client, carol, DEMO_PASSWORD)
        assert await _logs_in(client, mo, FIRST_PASSWORD)
        me = await client.get("/api/users/me", headers=await _token(client, mo, FIRST_PASSWORD))
        assert me.json()["name"] == "Mo at auth"
        me = await client.get("/api/users/me", headers=await _token(client, alice, DEMO_PASSWORD))
        assert me.json()["name"] == "Alice at the monolith"

    # Dave's older hash moved as it was; his login at auth upgrades it, on both sides.
    dave_me = await monolith.get(
        "/api/users/me", headers=await _token(monolith, dave, DEMO_PASSWORD)
    )
    dave_id = dave_me.json()["id"]
    assert await _hash_scheme(monolith, dave_id) == "pbkdf2_sha256"
    assert await _logs_in(auth, dave, DEMO_PASSWORD)
    await _in_sync(sides)
    assert await _hash_scheme(monolith, dave_id) == await _hash_scheme(auth, dave_id) == "argon2id"
    assert await _logs_in(monolith, dave, DEMO_PASSWORD)

    # No change came back as the other side's own (no loops): each side published only its own.
    for database in (sides.monolith_database, sides.auth_database):
        assert await _account_events(database, mo_id, au_id) == (1, 1)

    code, out = await _strangler(sides, tmp_path, "migrate", "auth", "verify")
    assert code == 0, out
    assert f"no drift: both sides hold the same {len(DEMO_USERS) + 2} records" in out
    assert "one account per e-mail address" in out
