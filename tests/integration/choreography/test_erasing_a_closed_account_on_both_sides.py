"""A closure erases the account on both sides while accounts move: the monolith and the auth
service, each on a fresh PostgreSQL database and served on a real port, each publishing its
account changes through its outbox to a broker of the test's own, applying the other's (the
two-way sync) and playing the accounts side of the closures asked of it.

One person who registered at the monolith closes their account at auth (``/api/users``
moved), another who registered at auth closes it at the monolith; billing's and
notifications' answers are published as those services publish them. Each account ends
erased on both sides — the placeholder address, no login on either side, no session left
at auth — the monolith's
copies of the mails go whoever started the closure, and the reconciliation behind
`strangler migrate auth verify` finds no drift.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from auth_service.adapters.migrate import upgrade_to_head as upgrade_auth
from auth_service.entrypoints.app import create_app as create_auth
from auth_service.settings import AuthSettings
from embedded_broker import EmbeddedBroker
from legacy_monolith.app import build_runtime
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.migrate import upgrade_to_head as upgrade_monolith
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings
from sqlalchemy import text
from strangler_contracts.events.account_closure import erased_email
from strangler_contracts.user_records import USERS
from strangler_eventing import BrokerConfig, create_producer
from strangler_migration import EntityChecksums, RecordsFound, compare_checksums
from strangler_persistence import create_engine

from tests.integration.billing_service.conftest import JWT_SECRET
from tests.integration.choreography.closures import confirm
from tests.integration.conftest import FreshDatabase, create_every_topic
from tests.support.auth_api import FAST_PASSWORDS
from tests.support.monolith_api import unique_email
from tests.support.operator import OPERATOR_HEADERS, OPERATOR_TOKEN
from tests.support.polling import eventually
from tests.support.serving import free_port, serving

pytestmark = pytest.mark.integration

WAIT_SECONDS = 60.0
PASSWORD = "closing-password-1"


@dataclass(frozen=True)
class Sides:
    monolith: httpx.AsyncClient
    auth: httpx.AsyncClient
    monolith_database: str
    producer: AIOKafkaProducer


@pytest.fixture
async def sides(fresh_database: FreshDatabase) -> AsyncIterator[Sides]:
    """Both sides with their relays, their syncs and their accounts side of closures on."""
    monolith_db = await fresh_database("monolith", migrate=upgrade_monolith)
    auth_db = await fresh_database("auth", migrate=upgrade_auth)
    broker = EmbeddedBroker(port=free_port(), after_start=create_every_topic)
    broker.start()
    producer = create_producer(BrokerConfig(bootstrap_servers=broker.bootstrap_servers))
    try:
        await producer.start()
        monolith_settings = MonolithSettings(
            database_url=monolith_db,
            jwt_secret=JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            auth_sync_enabled=True,
            account_closure_enabled=True,
        )

        def recording(settings: MonolithSettings) -> Runtime:
            return build_runtime(settings, mailer=RecordingMailer())

        monolith_app = create_monolith(monolith_settings, runtime_factory=recording)
        async with serving(monolith_app) as monolith_url:
            auth_settings = AuthSettings(
                database_url=auth_db,
                operator_token=OPERATOR_TOKEN,
                key_cache_seconds=0,
                kafka_bootstrap_servers=broker.bootstrap_servers,
                outbox_relay_enabled=True,
                legacy_sync_enabled=True,
                account_closure_enabled=True,
                monolith_url=monolith_url,
            )
            auth_app = create_auth(auth_settings, passwords=FAST_PASSWORDS)
            async with (
                serving(auth_app) as auth_url,
                httpx.AsyncClient(base_url=monolith_url, timeout=30) as monolith,
                httpx.AsyncClient(base_url=auth_url, timeout=30) as auth,
            ):
                yield Sides(monolith, auth, monolith_db, producer)
    finally:
        await producer.stop()
        broker.stop()


async def _register(client: httpx.AsyncClient, who: str) -> tuple[str, str]:
    email = unique_email(who)
    body = {"email": email, "password": PASSWORD, "name": f"{who.title()} Ørsted-Çelik"}
    answer = await client.post("/api/users", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], email


async def _records(client: httpx.AsyncClient, *ids: str) -> dict[str, dict[str, object]]:
    answer = await client.post(
        f"/internal/auth/records/{USERS}", json={"ids": list(ids)}, headers=OPERATOR_HEADERS
    )
    assert answer.status_code == 200, answer.text
    found = RecordsFound.model_validate_json(answer.content).records
    return {record.id: record.data for record in found}


async def _checksums(client: httpx.AsyncClient) -> EntityChecksums:
    answer = await client.get(f"/internal/auth/checksums/{USERS}", headers=OPERATOR_HEADERS)
    assert answer.status_code == 200, answer.text
    return EntityChecksums.model_validate_json(answer.content)


async def _close(client: httpx.AsyncClient, email: str) -> str:
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    asked = await client.delete("/api/users/me", headers=headers)
    assert asked.status_code == 202, asked.text
    closure_id: str = asked.json()["id"]
    return closure_id


async def _mails_in_monolith(database: str, user_id: str) -> int:
    engine = create_engine(database)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT count(*) FROM notifications WHERE user_id = :id"), {"id": user_id}
            )
            return int(found or 0)
    finally:
        await engine.dispose()


async def test_an_account_closed_on_either_side_is_erased_on_both_and_verify_finds_no_drift(
    sides: Sides,
) -> None:
    at_auth, at_auth_email = await _register(sides.monolith, "auth-closer")
    at_monolith, at_monolith_email = await _register(sides.auth, "monolith-closer")
    ids = (at_auth, at_monolith)

    async def on_both_sides() -> bool:
        for client in (sides.monolith, sides.auth):
            if len(await _records(client, *ids)) != len(ids):
                return False
        return True

    await eventually(on_both_sides, "both accounts on both sides", WAIT_SECONDS, every=0.3)
    assert await _mails_in_monolith(sides.monolith_database, at_auth) == 1  # its welcome

    at_auth_session = await sides.auth.post(
        "/api/auth/login", json={"email": at_monolith_email, "password": PASSWORD}
    )
    assert at_auth_session.status_code == 200, at_auth_session.text
    closures = {
        at_auth: await _close(sides.auth, at_auth_email),
        at_monolith: await _close(sides.monolith, at_monolith_email),
    }
    for user_id, closure_id in closures.items():
        await confirm(sides.producer, closure_id, user_id)

    async def erased_everywhere() -> bool:
        for client in (sides.monolith, sides.auth):
            records = await _records(client, *ids)
            if any(records[user_id]["email"] != erased_email(user_id) for user_id in ids):
                return False
        drift = compare_checksums(await _checksums(sides.monolith), await _checksums(sides.auth))
        return not drift.drifted

    await eventually(erased_everywhere, "both erased on both sides, no drift", WAIT_SECONDS, 0.3)
    for client in (sides.monolith, sides.auth):
        for user_id, email in ((at_auth, at_auth_email), (at_monolith, at_monolith_email)):
            record = (await _records(client, user_id))[user_id]
            assert (record["display_name"], record["password_hash"]) == (
                "Closed account",
                "!erased",
            )
            login = await client.post(
                "/api/auth/login", json={"email": email, "password": PASSWORD}
            )
            assert login.status_code == 401, login.text
    # A session opened at auth ends with an erase made at the monolith and synced.
    refresh_token = at_auth_session.json()["refresh_token"]
    refreshed = await sides.auth.post("/api/auth/refresh", json={"refresh_token": refresh_token})
    assert refreshed.status_code == 401, refreshed.text
    for user_id in ids:  # the monolith's copies of the mails, whoever started the closure
        assert await _mails_in_monolith(sides.monolith_database, user_id) == 0
