"""The ``mail`` flag at the monolith: with ``legacy`` it mails inline as it always did; with
``new`` it sends nothing and marks the causing event for the notifications service. Either way
the causing event says which side sends, decided in the change's own transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.app import build_runtime, create_app
from legacy_monolith.models import outbox
from legacy_monolith.notifications.mail_flag import MailFlag
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings
from sqlalchemy import select
from strangler_flags import MAIL, InMemoryFlagSource, Mode, RouteFlag

from tests.support.asgi import started
from tests.support.monolith_api import Subscriber, pay, register, sign_up
from tests.unit.monolith.fakes import FakePaymentProvider

from .conftest import BASE_URL


@pytest.fixture
def flags() -> InMemoryFlagSource:
    return InMemoryFlagSource()


@pytest.fixture
def app(
    settings: MonolithSettings,
    payments: FakePaymentProvider,
    mailer: RecordingMailer,
    flags: InMemoryFlagSource,
) -> FastAPI:
    def runtime(resolved: MonolithSettings) -> Runtime:
        return build_runtime(
            resolved, payments=payments, mailer=mailer, mail_flag=MailFlag(flags.current)
        )

    return create_app(settings, runtime_factory=runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with started(app, BASE_URL) as client:
        yield client


async def _marks(app: FastAPI, user_id: str) -> dict[str, Any]:
    """Each event the user's changes recorded, by type, with who sends its mail."""
    runtime: Runtime = app.root
    statement = select(outbox.c.payload).where(outbox.c.key == user_id)
    async with runtime.sessions() as session:
        payloads = (await session.scalars(statement.order_by(outbox.c.position))).all()
    events = [json.loads(payload) for payload in payloads]
    return {
        event["type"].removeprefix("dev.strangler-fig.").removesuffix(".v1"): event["data"].get(
            "mail_sent_by", "-"
        )
        for event in events
    }


async def test_with_mail_on_legacy_the_monolith_mails_inline_and_says_so_in_the_event(
    app: FastAPI, client: httpx.AsyncClient, mailer: RecordingMailer
) -> None:
    customer = await sign_up(client, "legacy-mail")

    marks = await _marks(app, customer.id)
    listed = await client.get("/api/notifications", headers=customer.auth)

    assert [mail.to for mail in mailer.sent] == [customer.email]
    assert marks["accounts.user-registered"] == "legacy"
    assert "notifications.notification-sent" in marks
    assert [n["kind"] for n in listed.json()["items"]] == ["welcome"]


async def test_with_mail_on_new_the_monolith_sends_nothing_and_hands_the_mail_over(
    app: FastAPI,
    client: httpx.AsyncClient,
    mailer: RecordingMailer,
    flags: InMemoryFlagSource,
    subscriber: Subscriber,
) -> None:
    flags.set_flag(MAIL, RouteFlag(Mode.NEW))

    customer = await sign_up(client, "new-mail")
    paid = await pay(client, subscriber.customer, subscriber.invoice_id)

    marks = await _marks(app, customer.id)
    paying = await _marks(app, subscriber.customer.id)
    listed = await client.get("/api/notifications", headers=customer.auth)
    assert paid.status_code == 201
    assert mailer.sent == []
    assert marks["accounts.user-registered"] == "new"
    assert "notifications.notification-sent" not in marks
    assert paying["billing.payment-succeeded"] == "new"
    assert listed.json()["items"] == []


async def test_targeting_moves_some_users_mail_first_and_the_kill_switch_brings_it_back(
    app: FastAPI, client: httpx.AsyncClient, mailer: RecordingMailer, flags: InMemoryFlagSource
) -> None:
    flags.set_flag(MAIL, RouteFlag(Mode.LEGACY, force_new_email_domains=frozenset({"new.test"})))

    targeted = await register(client, f"pilot-{uuid.uuid4().hex[:8]}@new.test")
    other = await sign_up(client, "not-targeted")
    flags.set_kill_switch(True)
    during_incident = await register(client, f"pilot-{uuid.uuid4().hex[:8]}@new.test")

    assert (await _marks(app, targeted.json()["id"]))["accounts.user-registered"] == "new"
    assert (await _marks(app, other.id))["accounts.user-registered"] == "legacy"
    assert (await _marks(app, during_incident.json()["id"]))["accounts.user-registered"] == "legacy"
    assert [mail.to for mail in mailer.sent] == [other.email, during_incident.json()["email"]]


async def test_a_flip_between_two_changes_moves_the_next_mail_only(
    app: FastAPI, client: httpx.AsyncClient, mailer: RecordingMailer, flags: InMemoryFlagSource
) -> None:
    first = await sign_up(client, "before-flip")
    flags.set_flag(MAIL, RouteFlag(Mode.NEW))
    second = await sign_up(client, "after-flip")
    flags.set_flag(MAIL, RouteFlag(Mode.LEGACY))
    third = await sign_up(client, "after-flip-back")

    marks = [
        (await _marks(app, customer.id))["accounts.user-registered"]
        for customer in (first, second, third)
    ]
    assert marks == ["legacy", "new", "legacy"]
    assert [mail.to for mail in mailer.sent] == [first.email, third.email]
