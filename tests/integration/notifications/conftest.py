"""Notifications on a fresh PostgreSQL database, reading the session's broker and sending to
the real SMTP sink (in-process, on a real port, so a test can take it away and bring it
back on the same port with the mail it caught).

Each test's consumer group is its own, so it reads the whole of the shared topics, events of
earlier tests included. So that it does not send all their mail again, an in-process service
is given a sending switch of the test's own (``OnlyThisTest``: the users ``new_user`` made
during the test); a service process decides by the mail flag, which leaves the monolith's
unmarked events to the monolith, and the test marks its own events ``new``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from embedded_broker import EmbeddedBroker
from legacy_monolith.security import TokenIssuer
from notifications_service.adapters.migrate import upgrade_to_head
from notifications_service.adapters.tables import send_ledger
from notifications_service.settings import NotificationsSettings
from smtp_sink.bootstrap import Sink, bootstrap
from smtp_sink.message import ReceivedMessage
from smtp_sink.settings import Settings as SinkSettings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts import CloudEvent, IntegrationEvent, UserRegistered, encode
from strangler_eventing import BrokerConfig, create_producer
from strangler_persistence import create_engine

from tests.integration.conftest import FreshDatabase
from tests.support.monolith_api import unique_email
from tests.support.operator import OPERATOR_TOKEN

JWT_SECRET = "integration-test-secret-with-32-bytes!"
BASE_URL = "http://notifications"
WAIT_SECONDS = 60.0

SettingsFactory = Callable[..., NotificationsSettings]


_THIS_TEST: set[str] = set()


class OnlyThisTest:
    """A sending switch: the mails of the users made by ``new_user`` in the running test."""

    async def sends(self, template: str, user_id: str, envelope: CloudEvent) -> bool:
        return user_id in _THIS_TEST


@pytest.fixture(autouse=True)
def _users_of_this_test() -> Iterator[None]:
    _THIS_TEST.clear()
    yield
    _THIS_TEST.clear()


@dataclass
class RunningSink:
    """The SMTP sink: what it caught, and a switch to take its SMTP listener away."""

    sink: Sink
    port: int

    async def stop(self) -> None:
        await self.sink.listener.stop()

    async def start(self) -> None:
        self.sink.listener.requested_port = self.port
        await self.sink.listener.start()

    def recipients(self) -> Counter[str]:
        """How many messages each address received (as the envelope named it, lowercased)."""
        messages, _ = self.sink.mailbox.newest_first(limit=1_000_000, offset=0)
        return Counter(rcpt.casefold() for m in messages for rcpt in m.rcpt_tos)

    def mail_to(self, address: str) -> list[ReceivedMessage]:
        messages, _ = self.sink.mailbox.newest_first(limit=10_000, offset=0, to=address)
        return messages


@pytest.fixture
async def smtp_sink() -> AsyncIterator[RunningSink]:
    sink = bootstrap(SinkSettings(smtp_host="127.0.0.1", smtp_port=0, max_messages=100_000))
    await sink.listener.start()
    try:
        yield RunningSink(sink, sink.listener.address[1])
    finally:
        await sink.listener.stop()


@pytest.fixture
async def database_url(fresh_database: FreshDatabase) -> str:
    return await fresh_database("notifications", migrate=upgrade_to_head)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of the test's own, to look at the database behind the service's back."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def group() -> str:
    return f"notifications-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(
    database_url: str, broker: EmbeddedBroker, smtp_sink: RunningSink, group: str
) -> SettingsFactory:
    """Notifications' settings for this test: its database, the broker, the sink, sending
    on, quick retries; keyword arguments override them."""

    def make(**overrides: object) -> NotificationsSettings:
        values: dict[str, object] = {
            "database_url": database_url,
            "jwt_secret": JWT_SECRET,
            "operator_token": OPERATOR_TOKEN,
            "kafka_bootstrap_servers": broker.bootstrap_servers,
            "consumer_group": group,
            "smtp_port": smtp_sink.port,
            "smtp_timeout_seconds": 2.0,
            "sending": "on",
            "send_poll_seconds": 0.05,
            "retry_first_seconds": 0.2,
            "retry_max_seconds": 1.0,
            "send_lease_seconds": 3.0,
        }
        return NotificationsSettings.model_validate(values | overrides)

    return make


@pytest.fixture
async def producer(broker: EmbeddedBroker) -> AsyncIterator[AIOKafkaProducer]:
    producer = create_producer(BrokerConfig(bootstrap_servers=broker.bootstrap_servers))
    await producer.start()
    yield producer
    await producer.stop()


async def publish(
    producer: AIOKafkaProducer, event: IntegrationEvent, source: str = "/legacy-monolith"
) -> str:
    """Publish ``event`` as its producer's relay would; answers its event id."""
    envelope = encode(event, source=source)
    await producer.send_and_wait(
        event.topic, envelope.model_dump_json().encode(), key=event.aggregate_id().encode()
    )
    return envelope.id


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str

    @property
    def token(self) -> str:
        return TokenIssuer(JWT_SECRET, "legacy-monolith", 3600).issue(self.id, self.email)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def registered(self, mail_sent_by: Literal["legacy", "new"] | None = None) -> UserRegistered:
        return UserRegistered(
            user_id=self.id,
            email=self.email,
            display_name=self.name,
            registered_at=datetime.now(UTC),
            mail_sent_by=mail_sent_by,
        )


def new_user(who: str = "reader", domain: str | None = None) -> User:
    email = unique_email(who)
    if domain is not None:
        email = email.replace("@example.com", f"@{domain}")
    user = User(str(uuid.uuid4()), email, who.capitalize())
    _THIS_TEST.add(user.id)
    return user


async def ledger_states(engine: AsyncEngine, user_ids: set[str]) -> list[tuple[str, int]]:
    """(state, attempts) of every ledger entry of these users."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(send_ledger.c.state, send_ledger.c.attempts).where(
                    send_ledger.c.user_id.in_(user_ids)
                )
            )
        ).all()
    return [(row.state, row.attempts) for row in rows]


async def notifications_of(client: httpx.AsyncClient, user: User) -> list[dict[str, object]]:
    response = await client.get("/api/notifications", headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items
