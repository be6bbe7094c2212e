"""While auth is extracted, a registration is published by whichever side served it: billing
keeps exactly one customer per user, whichever side its ``UserRegistered`` came from, and
however many times it arrives (the same user id is the same customer).

The monolith and auth publish through their outboxes to the session's broker; billing's
registrations consumer runs as a group of the test's own, on a fresh PostgreSQL database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from auth_service.adapters.migrate import upgrade_to_head as upgrade_auth
from auth_service.entrypoints.app import create_app as create_auth
from auth_service.settings import AuthSettings
from billing_service.adapters.orm import customers, inbox
from billing_service.entrypoints.app import create_app as create_billing
from billing_service.settings import BillingSettings
from embedded_broker import EmbeddedBroker
from legacy_monolith.app import build_runtime
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.migrate import upgrade_to_head as upgrade_monolith
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts import UserRegistered, encode
from strangler_contracts.topics import ACCOUNTS
from strangler_eventing import BrokerConfig, create_producer
from strangler_persistence import create_engine

from tests.integration.billing_service.conftest import JWT_SECRET, migrate_and_seed
from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.auth_api import FAST_PASSWORDS
from tests.support.monolith_api import PASSWORD, unique_email
from tests.support.operator import OPERATOR_TOKEN
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

WAIT_SECONDS = 45.0


@pytest.fixture
async def billing_engine(
    fresh_database: FreshDatabase, broker: EmbeddedBroker
) -> AsyncIterator[AsyncEngine]:
    """Billing with its registrations consumer running; an engine on its database."""
    database = await fresh_database("billing", migrate=migrate_and_seed)
    settings = BillingSettings(
        database_url=database,
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        registrations_enabled=True,
        consumer_group=f"billing-{uuid.uuid4().hex[:10]}",
    )
    engine = create_engine(database)
    async with started(create_billing(settings), "http://billing"):
        yield engine
    await engine.dispose()


@pytest.fixture
async def monolith(
    fresh_database: FreshDatabase, broker: EmbeddedBroker
) -> AsyncIterator[httpx.AsyncClient]:
    settings = MonolithSettings(
        database_url=await fresh_database("monolith", migrate=upgrade_monolith),
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        kafka_bootstrap_servers=broker.bootstrap_servers,
    )

    def with_recording_mailer(resolved: MonolithSettings) -> Runtime:
        return build_runtime(resolved, mailer=RecordingMailer())

    app = create_monolith(settings, runtime_factory=with_recording_mailer)
    async with started(app, "http://monolith") as client:
        yield client


@pytest.fixture
async def auth(
    fresh_database: FreshDatabase, broker: EmbeddedBroker
) -> AsyncIterator[httpx.AsyncClient]:
    settings = AuthSettings(
        database_url=await fresh_database("auth", migrate=upgrade_auth),
        operator_token=OPERATOR_TOKEN,
        key_cache_seconds=0,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        outbox_relay_enabled=True,
    )
    async with started(create_auth(settings, passwords=FAST_PASSWORDS), "http://auth") as client:
        yield client


async def _register(client: httpx.AsyncClient, who: str) -> tuple[str, str]:
    email = unique_email(who)
    answer = await client.post(
        "/api/users", json={"email": email, "password": PASSWORD, "name": who.title()}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], email


async def _customers(engine: AsyncEngine, user_id: str) -> list[tuple[str, str]]:
    """The customers billing holds for ``user_id``: their e-mail and who told billing."""
    statement = select(customers.c.email, customers.c.origin).where(customers.c.id == user_id)
    async with engine.connect() as connection:
        return [(row.email, row.origin) for row in (await connection.execute(statement)).all()]


async def _processed(engine: AsyncEngine, event_id: str) -> bool:
    statement = select(func.count()).select_from(inbox).where(inbox.c.event_id == event_id)
    async with engine.connect() as connection:
        return bool(await connection.scalar(statement))


async def test_billing_keeps_one_customer_per_user_whichever_side_registered_them(
    monolith: httpx.AsyncClient,
    auth: httpx.AsyncClient,
    billing_engine: AsyncEngine,
    broker: EmbeddedBroker,
) -> None:
    at_monolith, monolith_email = await _register(monolith, "at-the-monolith")
    at_auth, auth_email = await _register(auth, "at-auth")

    for user_id in (at_monolith, at_auth):

        async def known(user_id: str = user_id) -> bool:
            return bool(await _customers(billing_engine, user_id))

        await eventually(known, f"billing knows {user_id}", WAIT_SECONDS, every=0.2)
    assert await _customers(billing_engine, at_monolith) == [(monolith_email, "legacy-monolith")]
    assert await _customers(billing_engine, at_auth) == [(auth_email, "auth")]

    # The same registration announced again by the other side, then by the first one again.
    producer = create_producer(BrokerConfig(bootstrap_servers=broker.bootstrap_servers))
    await producer.start()
    try:
        sent = []
        for user_id, email, source in (
            (at_auth, auth_email, "/legacy-monolith"),
            (at_monolith, monolith_email, "/auth"),
            (at_auth, auth_email, "/auth"),
        ):
            event = UserRegistered(
                user_id=user_id,
                email=email,
                display_name="Someone Else",
                registered_at=datetime.now(UTC),
                origin=source.strip("/"),
            )
            envelope = encode(event, source=source)
            sent.append(envelope.id)
            value = envelope.model_dump_json().encode()
            await producer.send_and_wait(ACCOUNTS.name, value, key=user_id.encode())
    finally:
        await producer.stop()

    for event_id in sent:

        async def processed(event_id: str = event_id) -> bool:
            return await _processed(billing_engine, event_id)

        await eventually(processed, f"billing handled {event_id}", WAIT_SECONDS, every=0.2)
    assert await _customers(billing_engine, at_monolith) == [(monolith_email, "legacy-monolith")]
    assert await _customers(billing_engine, at_auth) == [(auth_email, "auth")]


async def _name_in_billing(engine: AsyncEngine, user_id: str) -> str | None:
    statement = select(customers.c.name).where(customers.c.id == user_id)
    async with engine.connect() as connection:
        name: str | None = await connection.scalar(statement)
        return name


async def test_a_user_renamed_on_either_side_is_renamed_in_billing(
    monolith: httpx.AsyncClient, auth: httpx.AsyncClient, billing_engine: AsyncEngine
) -> None:
    for side, who in ((monolith, "renamed-at-the-monolith"), (auth, "renamed-at-auth")):
        user_id, email = await _register(side, who)
        login = await side.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        renamed = await side.patch("/api/users/me", json={"name": "New Name"}, headers=headers)
        assert renamed.status_code == 200, renamed.text

        async def follows(user_id: str = user_id) -> bool:
            return await _name_in_billing(billing_engine, user_id) == "New Name"

        await eventually(follows, f"billing calls {who} by the new name", WAIT_SECONDS, 0.2)
