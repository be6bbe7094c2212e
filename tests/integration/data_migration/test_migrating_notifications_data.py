"""Moving notifications' data, for real: the monolith and the notifications service, each on a
fresh PostgreSQL database, served on real ports (the service reads the monolith's export
over HTTP), each publishing its history and preferences through its outbox to a broker of
the test's own and applying the other's (two-way sync), both mailing the real SMTP sink.

The history written before the sync existed is backfilled: its events went to a broker that
kept none of them. Then people register, opt out and mail is cut over (the mail flag) on
both sides, and both sides end holding the same mails and choices: each person sees every
mail they were sent on either side, was welcomed exactly once, and
`strangler migrate notifications verify` finds no drift.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from embedded_broker import EmbeddedBroker
from legacy_monolith.app import build_runtime
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.migrate import upgrade_to_head as upgrade_monolith
from legacy_monolith.notifications.mail_flag import MailFlag
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings
from local_processes import AsyncChildProcess
from notifications_service.adapters.migrate import upgrade_to_head as upgrade_notifications
from notifications_service.entrypoints.app import create_app as create_notifications
from notifications_service.settings import NotificationsSettings
from smtp_sink.bootstrap import Sink
from smtp_sink.bootstrap import bootstrap as bootstrap_sink
from smtp_sink.settings import Settings as SinkSettings
from sqlalchemy import text
from strangler_contracts.notification_records import NOTIFICATION_RECORDS
from strangler_flags import MAIL, InMemoryFlagSource, Mode, RouteFlag
from strangler_migration import BackfillProgress, EntityChecksums, EntityDrift, compare_checksums
from strangler_persistence import create_engine

from tests.integration.billing_service.conftest import JWT_SECRET
from tests.integration.conftest import FreshDatabase, create_every_topic
from tests.support.monolith_api import Customer, sign_up
from tests.support.operator import OPERATOR_HEADERS, OPERATOR_TOKEN
from tests.support.polling import eventually
from tests.support.serving import free_port, serving

pytestmark = pytest.mark.integration

SYNC_WITHIN_SECONDS = 60.0
MAX_BACKFILL_CALLS = 20
CLI_TIMEOUT_SECONDS = 60
CAPABILITY = NOTIFICATION_RECORDS.capability
NOTIFICATIONS = "/api/notifications"
PREFERENCES = "/api/notifications/preferences"


@dataclass(frozen=True)
class Databases:
    monolith: str
    service: str


@dataclass(frozen=True)
class Sides:
    monolith: httpx.AsyncClient
    service: httpx.AsyncClient
    monolith_url: str
    service_url: str
    flags: InMemoryFlagSource


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    sink = bootstrap_sink(SinkSettings(smtp_host="127.0.0.1", smtp_port=0))
    await sink.listener.start()
    try:
        yield sink
    finally:
        await sink.listener.stop()


@pytest.fixture
async def databases(fresh_database: FreshDatabase) -> Databases:
    return Databases(
        await fresh_database("monolith", migrate=upgrade_monolith),
        await fresh_database("notifications", migrate=upgrade_notifications),
    )


def _monolith_settings(databases: Databases, sink: Sink, **overrides: Any) -> MonolithSettings:
    values: dict[str, Any] = {
        "database_url": databases.monolith,
        "jwt_secret": JWT_SECRET,
        "operator_token": OPERATOR_TOKEN,
        "smtp_port": sink.listener.address[1],
    }
    return MonolithSettings.model_validate(values | overrides)


async def _history_before_the_sync(databases: Databases, sink: Sink) -> tuple[Customer, Customer]:
    """Ada and Bob registered (welcomed inline) and Ada opted out of billing mail, at a
    monolith whose events then went to a broker that kept none of them."""
    settings = _monolith_settings(databases, sink, outbox_relay_enabled=False)
    async with (
        serving(create_monolith(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as old,
    ):
        ada, bob = await sign_up(old, "ada"), await sign_up(old, "bob")
        chosen = await old.put(
            PREFERENCES, json={"account_emails": True, "billing_emails": False}, headers=ada.auth
        )
        assert chosen.status_code == 200, chosen.text
    engine = create_engine(databases.monolith)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE outbox SET published_at = now()"))
    finally:
        await engine.dispose()
    return ada, bob


@pytest.fixture
async def history(databases: Databases, sink: Sink) -> tuple[Customer, Customer]:
    return await _history_before_the_sync(databases, sink)


@pytest.fixture
async def sides(
    databases: Databases, sink: Sink, history: tuple[Customer, Customer]
) -> AsyncIterator[Sides]:
    """Both sides with their outbox relays and their syncs on; mail on legacy to start."""
    broker = EmbeddedBroker(port=free_port(), after_start=create_every_topic)
    broker.start()
    flags = InMemoryFlagSource({MAIL: RouteFlag(Mode.LEGACY)})
    try:
        monolith_settings = _monolith_settings(
            databases,
            sink,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            notifications_sync_enabled=True,
        )

        def runtime(settings: MonolithSettings) -> Runtime:
            return build_runtime(settings, mail_flag=MailFlag(flags.current))

        async with serving(create_monolith(monolith_settings, runtime_factory=runtime)) as m_url:
            service_settings = NotificationsSettings(
                database_url=databases.service,
                jwt_secret=JWT_SECRET,
                operator_token=OPERATOR_TOKEN,
                kafka_bootstrap_servers=broker.bootstrap_servers,
                smtp_port=sink.listener.address[1],
                send_poll_seconds=0.05,
                monolith_url=m_url,
                legacy_sync_enabled=True,
                backfill_page_size=1,
            )
            async with (
                serving(create_notifications(service_settings)) as s_url,
                httpx.AsyncClient(base_url=m_url, timeout=30) as monolith,
                httpx.AsyncClient(base_url=s_url, timeout=30) as service,
            ):
                yield Sides(monolith, service, m_url, s_url, flags)
    finally:
        broker.stop()


# Both sides through their data-migration endpoints.


async def _backfill(service: httpx.AsyncClient) -> BackfillProgress:
    for _ in range(MAX_BACKFILL_CALLS):
        answer = await service.post(
            f"/internal/migration/{CAPABILITY}/backfill",
            params={"pages": 2},
            headers=OPERATOR_HEADERS,
        )
        assert answer.status_code == 200, answer.text
        progress = BackfillProgress.model_validate_json(answer.content)
        if progress.finished:
            return progress
    raise AssertionError(f"the backfill did not finish in {MAX_BACKFILL_CALLS} calls")


async def _checksums(client: httpx.AsyncClient, entity: str) -> EntityChecksums:
    answer = await client.get(
        f"/internal/{CAPABILITY}/checksums/{entity}", headers=OPERATOR_HEADERS
    )
    assert answer.status_code == 200, answer.text
    return EntityChecksums.model_validate_json(answer.content)


async def _in_sync(sides: Sides) -> None:
    last: list[EntityDrift] = []

    async def no_drift() -> bool:
        nonlocal last
        last = []
        for entity in NOTIFICATION_RECORDS.entities:
            drift = compare_checksums(
                await _checksums(sides.monolith, entity), await _checksums(sides.service, entity)
            )
            if drift.drifted:
                last.append(drift)
        return not last

    try:
        await eventually(no_drift, "both sides hold the same history", SYNC_WITHIN_SECONDS, 0.3)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still drifted: {last!r}"[:4000]) from None


async def _strangler(sides: Sides, state_dir: Path, *args: str) -> tuple[int, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRANGLER_")}
    env |= {
        "STRANGLER_STATE_DIR": str(state_dir),
        "STRANGLER_MONOLITH_URL": sides.monolith_url,
        "STRANGLER_NOTIFICATIONS_URL": sides.service_url,
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


# What people see.


async def _kinds(client: httpx.AsyncClient, customer: Customer) -> list[tuple[str, str]]:
    answer = await client.get(NOTIFICATIONS, headers=customer.auth)
    assert answer.status_code == 200, answer.text
    return sorted((item["kind"], item["status"]) for item in answer.json()["items"])


async def _choices(client: httpx.AsyncClient, customer: Customer) -> tuple[bool, bool]:
    answer = await client.get(PREFERENCES, headers=customer.auth)
    assert answer.status_code == 200, answer.text
    return answer.json()["account_emails"], answer.json()["billing_emails"]


async def _choose(client: httpx.AsyncClient, customer: Customer, billing: bool) -> None:
    body = {"account_emails": True, "billing_emails": billing}
    answer = await client.put(PREFERENCES, json=body, headers=customer.auth)
    assert answer.status_code == 200, answer.text


def _welcomes(sink: Sink, customer: Customer) -> int:
    messages, _ = sink.mailbox.newest_first(limit=100, offset=0, to=customer.email)
    return sum(1 for message in messages if (message.subject or "").startswith("Welcome"))


async def test_history_and_choices_changed_on_both_sides_end_the_same_and_mail_goes_out_once(
    sides: Sides, sink: Sink, history: tuple[Customer, Customer], tmp_path: Path
) -> None:
    monolith, service = sides.monolith, sides.service
    ada, bob = history

    progress = await _backfill(service)
    assert [(e.entity, e.scanned, e.written) for e in progress.entities] == [
        ("preferences", 2, 2),
        ("notifications", 2, 2),
    ]
    await _in_sync(sides)
    assert await _kinds(service, ada) == [("welcome", "sent")]
    assert await _choices(service, ada) == (True, False)

    # Traffic on both sides; mail is cut over to the service halfway.
    carol = await sign_up(monolith, "carol")
    await _choose(service, bob, billing=False)
    sides.flags.set_flag(MAIL, RouteFlag(Mode.NEW))
    dan = await sign_up(monolith, "dan")
    await _choose(monolith, carol, billing=False)
    await _choose(monolith, dan, billing=True)
    await _in_sync(sides)

    # Everyone sees the same mails and choices on either side, and was welcomed once.
    for client in (monolith, service):
        assert await _kinds(client, dan) == [("welcome", "sent")]
        assert await _kinds(client, carol) == [("welcome", "sent")]
        assert await _choices(client, bob) == (True, False)
        assert await _choices(client, carol) == (True, False)
    assert [_welcomes(sink, who) for who in (ada, bob, carol, dan)] == [1, 1, 1, 1]

    code, out = await _strangler(sides, tmp_path, "migrate", CAPABILITY, "verify")
    assert code == 0, out
    assert "no drift: both sides hold the same" in out
    assert "one welcome mail per user" in out
