"""Registration reaches billing by events only: the monolith's ``UserRegistered``, through its
outbox, the real broker and billing's idempotent consumer, becomes a billing customer.

The broker is the session's, shared with other tests: each test's consumer group is its own,
so it reads the whole topic, and assertions look only at this test's users.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from billing_service.adapters.orm import customers, inbox
from billing_service.entrypoints.app import create_app
from embedded_broker import EmbeddedBroker
from legacy_monolith.app import build_runtime
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.migrate import upgrade_to_head as migrate_monolith
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts import CloudEvent, UserRegistered, encode
from strangler_contracts.topics import ACCOUNTS
from strangler_eventing import BrokerConfig, create_producer, read_dead_letters

from tests.integration.billing_service.conftest import (
    BASE_URL,
    JWT_SECRET,
    SettingsFactory,
)
from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.monolith_api import sign_up, subscribe
from tests.support.operator import OPERATOR_TOKEN
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

WAIT_SECONDS = 45.0


@pytest.fixture
def group() -> str:
    return f"billing-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def billing(
    settings: SettingsFactory, broker: EmbeddedBroker, group: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Billing with its registrations consumer running against the session's broker."""
    app = create_app(
        settings(
            registrations_enabled=True,
            consumer_group=group,
            kafka_bootstrap_servers=broker.bootstrap_servers,
        )
    )
    async with started(app, BASE_URL) as client:
        yield client


@pytest.fixture
async def producer(broker: EmbeddedBroker) -> AsyncIterator[AIOKafkaProducer]:
    producer = create_producer(BrokerConfig(bootstrap_servers=broker.bootstrap_servers))
    await producer.start()
    yield producer
    await producer.stop()


def _registration(user_id: str, email: str | None = None) -> CloudEvent:
    event = UserRegistered(
        user_id=user_id,
        email=email or f"{user_id}@example.com",
        display_name="Erin",
        registered_at=datetime.now(UTC),
    )
    return encode(event, source="/legacy-monolith")


async def _send(producer: AIOKafkaProducer, key: str, value: bytes) -> None:
    await producer.send_and_wait(ACCOUNTS.name, value, key=key.encode())


def _customer_exists(engine: AsyncEngine, user_id: str) -> Callable[[], Awaitable[bool]]:
    async def exists() -> bool:
        return await _count(engine, customers.c.id == user_id, customers) == 1

    return exists


async def _count(engine: AsyncEngine, condition: object, table: object) -> int:
    async with engine.connect() as connection:
        return int(
            await connection.scalar(select(func.count()).select_from(table).where(condition))  # type: ignore[arg-type]
        )


async def test_a_user_registered_in_the_monolith_becomes_a_customer_who_can_subscribe(
    fresh_database: FreshDatabase,
    broker: EmbeddedBroker,
    billing: httpx.AsyncClient,
    engine: AsyncEngine,
) -> None:
    monolith_settings = MonolithSettings(
        database_url=await fresh_database("monolith", migrate=migrate_monolith),
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        kafka_bootstrap_servers=broker.bootstrap_servers,
    )

    def with_recording_mailer(settings: MonolithSettings) -> Runtime:
        return build_runtime(settings, mailer=RecordingMailer())

    monolith = create_monolith(monolith_settings, runtime_factory=with_recording_mailer)
    async with started(monolith, "http://monolith") as monolith_client:
        user = await sign_up(monolith_client, "registered-in-the-monolith")

        await eventually(_customer_exists(engine, user.id), "the customer exists", WAIT_SECONDS)

    created = await subscribe(billing, user, "pro")
    assert created["invoice"]["amount_cents"] == 2900
    async with engine.connect() as connection:
        row = (await connection.execute(select(customers).where(customers.c.id == user.id))).one()
    assert (row.email, row.origin, row.version) == (user.email, "legacy-monolith", 1)


async def test_a_registration_delivered_twice_adds_the_customer_once(
    billing: httpx.AsyncClient, producer: AIOKafkaProducer, engine: AsyncEngine, group: str
) -> None:
    user_id, marker_id = str(uuid.uuid4()), str(uuid.uuid4())
    registration = _registration(user_id).model_dump_json().encode()
    replayed_with_a_new_id = _registration(user_id, email="changed@example.com")

    for value in (registration, registration, replayed_with_a_new_id.model_dump_json().encode()):
        await _send(producer, user_id, value)
    await _send(producer, user_id, _registration(marker_id).model_dump_json().encode())
    await eventually(_customer_exists(engine, marker_id), "the marker is applied", WAIT_SECONDS)

    assert await _count(engine, customers.c.id == user_id, customers) == 1
    async with engine.connect() as connection:
        email = await connection.scalar(select(customers.c.email).where(customers.c.id == user_id))
    assert email == f"{user_id}@example.com"
    processed = await _count(
        engine,
        (inbox.c.consumer_group == group) & (inbox.c.event_id == json.loads(registration)["id"]),
        inbox,
    )
    assert processed == 1


async def test_messages_billing_cannot_read_are_dead_lettered_and_the_partition_moves_on(
    billing: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    engine: AsyncEngine,
    broker: EmbeddedBroker,
    group: str,
) -> None:
    key = str(uuid.uuid4())
    valid = _registration(key).model_dump(mode="json")
    unknown_version = {**valid, "id": f"{key}-v9", "type": valid["type"][:-2] + "v9"}
    invalid_data = {**valid, "id": f"{key}-invalid", "data": {"user_id": key}}
    for value in (
        b"{not even JSON",
        json.dumps(unknown_version).encode(),
        json.dumps(invalid_data).encode(),
        json.dumps(valid).encode(),
    ):
        await _send(producer, key, value)

    await eventually(
        _customer_exists(engine, key), "the valid registration is applied", WAIT_SECONDS
    )

    letters = [
        letter
        for letter in await read_dead_letters(
            BrokerConfig(bootstrap_servers=broker.bootstrap_servers), ACCOUNTS.name, 30.0
        )
        if letter.info.get("consumer-group") == group and letter.key == key.encode()
    ]
    assert [letter.info["reason"] for letter in letters] == [
        "malformed",
        "unknown-event-type",
        "invalid-event-data",
    ]
    assert letters[0].value == b"{not even JSON"
