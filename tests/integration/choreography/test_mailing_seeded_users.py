"""Seeded demo users are known to every service that keeps its own copy of the users, wired as
`strangler up` wires them: the monolith seeded on a fresh PostgreSQL database, its outbox
relay publishing to a broker of the test's own, the notifications service reading it and
mailing the real SMTP sink, and mail cut over to the service (the ``mail`` flag on ``new``).

A demo user changes their password at the monolith: the service sends the mail at once — it
learned who the user is from the seed's ``UserRegistered``, recorded with the insert — and
sent no welcome for the seed (the monolith is marked as having mailed it). Seeding again
announces nobody twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from embedded_broker import EmbeddedBroker
from legacy_monolith.app import build_runtime
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.database import create_session_factory
from legacy_monolith.migrate import upgrade_to_head as upgrade_monolith
from legacy_monolith.notifications.mail_flag import MailFlag
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.seed import DEMO_PASSWORD, DEMO_USERS, seed
from legacy_monolith.settings import MonolithSettings
from notifications_service.adapters.migrate import upgrade_to_head as upgrade_notifications
from notifications_service.entrypoints.app import create_app as create_notifications
from notifications_service.settings import NotificationsSettings
from smtp_sink.bootstrap import Sink
from smtp_sink.bootstrap import bootstrap as bootstrap_sink
from smtp_sink.settings import Settings as SinkSettings
from sqlalchemy import text
from strangler_flags import MAIL, InMemoryFlagSource, Mode, RouteFlag
from strangler_persistence import create_engine

from tests.integration.billing_service.conftest import JWT_SECRET
from tests.integration.conftest import FreshDatabase, create_every_topic
from tests.support.operator import OPERATOR_TOKEN
from tests.support.polling import eventually
from tests.support.serving import free_port, serving

pytestmark = pytest.mark.integration

WAIT_SECONDS = 60.0
REGISTERED = "dev.strangler-fig.accounts.user-registered.v1"


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    sink = bootstrap_sink(SinkSettings(smtp_host="127.0.0.1", smtp_port=0))
    await sink.listener.start()
    try:
        yield sink
    finally:
        await sink.listener.stop()


@pytest.fixture
async def monolith_database(fresh_database: FreshDatabase) -> str:
    return await fresh_database("monolith", migrate=upgrade_monolith)


async def _seed(database: str) -> None:
    engine = create_engine(database)
    try:
        await seed(create_session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
async def monolith(
    fresh_database: FreshDatabase, monolith_database: str, sink: Sink
) -> AsyncIterator[httpx.AsyncClient]:
    """The seeded monolith and notifications on one broker, mail on ``new``."""
    await _seed(monolith_database)
    broker = EmbeddedBroker(port=free_port(), after_start=create_every_topic)
    broker.start()
    flags = InMemoryFlagSource({MAIL: RouteFlag(Mode.NEW)})
    try:
        monolith_settings = MonolithSettings(
            database_url=monolith_database,
            jwt_secret=JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            kafka_bootstrap_servers=broker.bootstrap_servers,
        )

        def runtime(settings: MonolithSettings) -> Runtime:
            return build_runtime(
                settings, mail_flag=MailFlag(flags.current), mailer=RecordingMailer()
            )

        service_settings = NotificationsSettings(
            database_url=await fresh_database("notifications", migrate=upgrade_notifications),
            jwt_secret=JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            smtp_port=sink.listener.address[1],
            send_poll_seconds=0.05,
        )
        async with (
            serving(create_monolith(monolith_settings, runtime_factory=runtime)) as url,
            serving(create_notifications(service_settings)),
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            yield client
    finally:
        broker.stop()


def _mail_to(sink: Sink, address: str) -> list[str]:
    messages, _ = sink.mailbox.newest_first(limit=100, offset=0, to=address)
    return [message.subject for message in messages]


async def _registrations_in_outbox(database: str) -> int:
    engine = create_engine(database)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT count(*) FROM outbox WHERE event_type = :type"), {"type": REGISTERED}
            )
            return int(found or 0)
    finally:
        await engine.dispose()


async def test_a_seeded_user_changing_their_password_is_mailed_by_the_service(
    monolith: httpx.AsyncClient, monolith_database: str, sink: Sink
) -> None:
    demo = DEMO_USERS[0]
    login = await monolith.post(
        "/api/auth/login", json={"email": demo.email, "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    changed = await monolith.post(
        "/api/users/me/password",
        json={"current_password": DEMO_PASSWORD, "new_password": "a-new-demo-password"},
        headers=headers,
    )

    assert changed.status_code == 204, changed.text

    async def mailed() -> bool:
        return bool(_mail_to(sink, demo.email))

    await eventually(mailed, f"the password-change mail to {demo.email}", WAIT_SECONDS)
    subjects = _mail_to(sink, demo.email)
    assert len(subjects) == 1, subjects  # that mail, and no welcome for the seed
    assert "password" in subjects[0].casefold(), subjects
    await _seed(monolith_database)  # seeding again announces nobody twice
    assert await _registrations_in_outbox(monolith_database) == len(DEMO_USERS)
