"""No e-mail lost, none sent twice: the send ledger against a real SMTP server that goes
away, one that refuses a mail for good, and a service process killed mid-burst."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from embedded_broker import EmbeddedBroker
from notifications_service.adapters.tables import send_ledger
from notifications_service.entrypoints.app import create_app
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts.topics import ACCOUNTS
from strangler_eventing import BrokerConfig, read_dead_letters

from tests.integration.notifications.conftest import (
    BASE_URL,
    WAIT_SECONDS,
    OnlyThisTest,
    RunningSink,
    SettingsFactory,
    User,
    ledger_states,
    new_user,
    notifications_of,
    publish,
)
from tests.support.asgi import started
from tests.support.broker_records import event_id_in
from tests.support.polling import eventually
from tests.support.service_process import ServiceProcess, env_with, launch, wait_until_ready

pytestmark = pytest.mark.integration

OUTAGE_USERS = 20
BURST_USERS = 150
KILL_AFTER_MAILS = 10


@pytest.fixture
async def notifications(settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with started(create_app(settings(), switch=OnlyThisTest()), BASE_URL) as client:
        yield client


def pending_gauge(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("strangler_notifications_pending_mails "):
            return float(line.split()[1])
    raise AssertionError("no strangler_notifications_pending_mails in /metrics")


async def test_mail_held_back_while_smtp_is_down_arrives_once_when_it_is_back(
    notifications: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    smtp_sink: RunningSink,
    engine: AsyncEngine,
) -> None:
    await smtp_sink.stop()
    users = [new_user(f"outage{i}") for i in range(OUTAGE_USERS)]
    for user in users:
        await publish(producer, user.registered())
    ids = {user.id for user in users}

    async def tried_again_and_again() -> bool:
        states = await ledger_states(engine, ids)
        return len(states) == len(users) and all(s == "pending" and a >= 2 for s, a in states)

    await eventually(tried_again_and_again, "every mail retried while SMTP is down", WAIT_SECONDS)
    pending_while_down = pending_gauge((await notifications.get("/metrics")).text)
    await smtp_sink.start()

    async def all_sent() -> bool:
        return {state for state, _ in await ledger_states(engine, ids)} == {"sent"}

    await eventually(all_sent, "every mail recorded as sent once SMTP is back", WAIT_SECONDS)

    assert pending_while_down >= len(users)
    assert [len(smtp_sink.mail_to(user.email)) for user in users] == [1] * len(users)
    assert {n["status"] for n in await notifications_of(notifications, users[0])} == {"sent"}


async def test_a_mail_refused_for_good_is_dead_with_its_reason_and_its_event_dead_lettered(
    notifications: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    smtp_sink: RunningSink,
    engine: AsyncEngine,
    broker: EmbeddedBroker,
) -> None:
    user = new_user("bounce", domain="refused.example")
    event_id = await publish(producer, user.registered())

    async def dead() -> bool:
        return await ledger_states(engine, {user.id}) == [("dead", 1)]

    await eventually(dead, "the mail dead after one refusal", WAIT_SECONDS)
    async with engine.connect() as connection:
        error = await connection.scalar(
            select(send_ledger.c.last_error).where(send_ledger.c.user_id == user.id)
        )

    async def dead_lettered() -> bool:
        letters = await read_dead_letters(
            BrokerConfig(bootstrap_servers=broker.bootstrap_servers), ACCOUNTS.name
        )
        return any(event_id_in(letter.value) == event_id for letter in letters)

    await eventually(dead_lettered, "the registration on strangler.accounts.dlq", WAIT_SECONDS)
    letters = await read_dead_letters(
        BrokerConfig(bootstrap_servers=broker.bootstrap_servers), ACCOUNTS.name
    )
    [letter] = [letter for letter in letters if event_id_in(letter.value) == event_id]

    assert "550" in (error or "")
    assert letter.info["reason"] == "smtp-refused"
    assert letter.info["consumer-group"] == "notifications.mail-sender"
    assert "550" in letter.info["error"]
    [listed] = await notifications_of(notifications, user)
    assert listed["status"] == "failed"
    assert smtp_sink.mail_to(user.email) == []


def _process_settings(settings: SettingsFactory) -> dict[str, str]:
    resolved = settings()
    return {
        name: value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
        for name, value in resolved.model_dump().items()
        if name in resolved.model_fields_set
    }


async def test_a_service_killed_mid_burst_loses_no_mail_and_repeats_only_with_the_same_message_id(
    settings: SettingsFactory,
    producer: AIOKafkaProducer,
    smtp_sink: RunningSink,
    engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    env = env_with("NOTIFICATIONS_", {**_process_settings(settings), "sending": "flag"})
    users = [new_user(f"burst{i}") for i in range(BURST_USERS)]
    processes: list[ServiceProcess] = []
    try:
        first = launch("notifications", "notifications-service", env, tmp_path / "first.log",
                       ready_path="/health/ready")  # fmt: skip
        processes.append(first)
        await wait_until_ready(first)
        for user in users:
            await publish(producer, user.registered(mail_sent_by="new"))

        await eventually(
            lambda: _delivered(smtp_sink, users) >= KILL_AFTER_MAILS,
            "the burst under way",
            WAIT_SECONDS,
            every=0.01,
        )
        first.kill()
        delivered_when_killed = _delivered(smtp_sink, users)

        second = launch("notifications", "notifications-service", env, tmp_path / "second.log",
                        ready_path="/health/ready")  # fmt: skip
        processes.append(second)
        await wait_until_ready(second)
        ids = {user.id for user in users}

        async def all_sent() -> bool:
            states = await ledger_states(engine, ids)
            return len(states) == len(users) and {state for state, _ in states} == {"sent"}

        await eventually(
            all_sent, "every mail of the burst sent by the next process", WAIT_SECONDS * 2
        )
    finally:
        for process in processes:
            process.stop()

    copies = {user.email: smtp_sink.mail_to(user.email) for user in users}
    repeated = {email: mails for email, mails in copies.items() if len(mails) > 1}
    assert delivered_when_killed < len(users)
    assert all(len({m.message_id for m in mails}) == 1 for mails in copies.values())
    in_flight = settings().smtp_connections
    assert len(repeated) <= in_flight, f"more than the mails in flight repeated: {repeated}"
    ours = {mails[0].message_id for mails in copies.values()}
    sink_repeats = Counter({d.message_id: d.copies for d in smtp_sink.sink.mailbox.duplicates()})
    assert {m for m in sink_repeats if m in ours} == {
        mails[0].message_id for mails in repeated.values()
    }
    assert all(copies.values()), "a mail recorded as sent never arrived"


def _delivered(smtp_sink: RunningSink, users: list[User]) -> int:
    received = smtp_sink.recipients()
    return sum(1 for user in users if received[user.email.casefold()])
