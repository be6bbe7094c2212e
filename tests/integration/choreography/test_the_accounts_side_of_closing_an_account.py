"""The accounts side of closing an account, played by the monolith until auth publishes
events: ``DELETE /api/users/me`` publishes ``AccountClosureRequested`` through the outbox
and the real broker; once billing and notifications have answered ``done`` (published here
as those services publish them) it erases the credentials and the profile and publishes
``AccountClosed``. A refund billing could not make pauses it, and the user can see why.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from embedded_broker import EmbeddedBroker
from fastapi import FastAPI
from legacy_monolith.app import build_runtime, create_app
from legacy_monolith.billing.payment_provider import HttpPaymentProvider
from legacy_monolith.migrate import upgrade_to_head
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings
from strangler_contracts import BillingClosedForAccount, FarewellSentAndDataErased
from strangler_contracts.topics import ACCOUNTS

from tests.integration.choreography.closures import DECLINED_REASON, confirm, decline, publish
from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.broker_records import events_about
from tests.support.monolith_api import Customer, log_in, sign_up
from tests.support.monolith_database import insert_plan_catalogue
from tests.support.operator import OPERATOR_TOKEN
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

JWT_SECRET = "integration-test-secret-with-32-bytes!"
WAIT_SECONDS = 45.0
REQUESTED = "dev.strangler-fig.accounts.account-closure-requested.v1"
CLOSED = "dev.strangler-fig.accounts.account-closed.v1"


@pytest.fixture
async def monolith(
    fresh_database: FreshDatabase, broker: EmbeddedBroker, payment_simulator_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    """The monolith with its outbox relay and the accounts side of closures running."""
    url = await fresh_database("monolith", migrate=upgrade_to_head)
    await insert_plan_catalogue(url)
    settings = MonolithSettings(
        database_url=url,
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        payment_provider_url="http://payment-simulator",
        kafka_bootstrap_servers=broker.bootstrap_servers,
        account_closure_enabled=True,
        account_closure_group=f"monolith-closure-{uuid.uuid4().hex[:10]}",
    )

    def with_simulator(settings: MonolithSettings) -> Runtime:
        payments = HttpPaymentProvider(
            settings.payment_provider_url,
            settings.payment_timeout_seconds,
            transport=httpx.ASGITransport(app=payment_simulator_app),
        )
        return build_runtime(settings, payments=payments, mailer=RecordingMailer())

    app = create_app(settings, runtime_factory=with_simulator)
    async with started(app, "http://monolith") as client:
        yield client


async def _close(monolith: httpx.AsyncClient, customer: Customer) -> dict[str, Any]:
    asked = await monolith.delete("/api/users/me", headers=customer.auth)
    assert asked.status_code == 202, asked.text
    assert asked.headers["location"] == "/api/users/me/closure"
    closure: dict[str, Any] = asked.json()
    return closure


async def _closure(monolith: httpx.AsyncClient, customer: Customer) -> httpx.Response:
    return await monolith.get("/api/users/me/closure", headers=customer.auth)


async def test_closing_publishes_the_request_and_erases_the_account_once_both_confirmed(
    monolith: httpx.AsyncClient, broker: EmbeddedBroker, producer: AIOKafkaProducer
) -> None:
    customer = await sign_up(monolith, "closing")

    closure = await _close(monolith, customer)
    again = await _close(monolith, customer)
    published = await events_about(
        broker.bootstrap_servers, ACCOUNTS.name, customer.id, 2, WAIT_SECONDS
    )

    assert again["id"] == closure["id"]  # asking twice is one closure
    assert (closure["status"], closure["billing"], closure["notifications"]) == (
        "requested",
        None,
        None,
    )
    requests = [envelope for envelope, _ in published if envelope["type"] == REQUESTED]
    assert len(requests) == 1
    assert requests[0]["correlationid"] == closure["id"]
    assert requests[0]["data"]["email"] == customer.email
    now = datetime.now(UTC)
    billed = BillingClosedForAccount(
        closure_id=closure["id"],
        user_id=customer.id,
        cancelled_subscription_id=None,
        refund_id=None,
        refunded_cents=0,
        currency=None,
        closed_at=now,
    )
    await publish(producer, billed, "/billing", closure["id"])
    await eventually(
        lambda: _billing_done(monolith, customer), "billing's answer applied", WAIT_SECONDS
    )
    assert (await _closure(monolith, customer)).json()["status"] == "requested"

    farewell = FarewellSentAndDataErased(
        closure_id=closure["id"],
        user_id=customer.id,
        farewell_message_id="<farewell@test>",
        erased_records=2,
        erased_at=now,
    )
    await publish(producer, farewell, "/notifications", closure["id"])
    # registered, closure requested, then profile erased and account closed
    closed = await events_about(
        broker.bootstrap_servers, ACCOUNTS.name, customer.id, 4, WAIT_SECONDS
    )

    account_closed = [envelope for envelope, _ in closed if envelope["type"] == CLOSED]
    assert len(account_closed) == 1
    assert account_closed[0]["correlationid"] == closure["id"]
    assert (await _closure(monolith, customer)).status_code == 401  # its tokens are refused
    assert (await log_in(monolith, customer.email)).status_code == 401


async def _billing_done(monolith: httpx.AsyncClient, customer: Customer) -> bool:
    return bool((await _closure(monolith, customer)).json()["billing"] == "done")


async def test_a_declined_refund_pauses_the_closure_and_the_user_sees_why(
    monolith: httpx.AsyncClient, producer: AIOKafkaProducer
) -> None:
    customer = await sign_up(monolith, "paused")
    closure = await _close(monolith, customer)

    await decline(producer, closure["id"], customer.id)

    async def paused() -> bool:
        return bool((await _closure(monolith, customer)).json()["status"] == "paused")

    await eventually(paused, "the closure paused", WAIT_SECONDS)
    shown = (await _closure(monolith, customer)).json()
    assert (shown["billing"], shown["declined_reason"]) == ("declined", DECLINED_REASON)
    assert (await log_in(monolith, customer.email)).status_code == 200  # not closed


async def test_an_account_that_never_asked_has_no_closure_to_show(
    monolith: httpx.AsyncClient,
) -> None:
    customer = await sign_up(monolith, "staying")

    shown = await _closure(monolith, customer)

    assert shown.status_code == 404
    assert shown.json()["type"].endswith("/account-closure-not-found")


async def test_twenty_deletes_at_once_are_one_closure(monolith: httpx.AsyncClient) -> None:
    customer = await sign_up(monolith, "hurried")

    answers = await asyncio.gather(
        *(monolith.delete("/api/users/me", headers=customer.auth) for _ in range(20))
    )

    assert {answer.status_code for answer in answers} == {202}, [a.text for a in answers]
    assert len({answer.json()["id"] for answer in answers}) == 1


async def test_a_paused_closure_resumed_asks_billing_again_and_completes(
    monolith: httpx.AsyncClient, broker: EmbeddedBroker, producer: AIOKafkaProducer
) -> None:
    customer = await sign_up(monolith, "resuming")
    closure = await _close(monolith, customer)
    await decline(producer, closure["id"], customer.id)

    async def paused() -> bool:
        return bool((await _closure(monolith, customer)).json()["status"] == "paused")

    await eventually(paused, "the closure paused", WAIT_SECONDS)
    resumed = await monolith.post("/api/users/me/closure/resume", headers=customer.auth)
    again = await monolith.post("/api/users/me/closure/resume", headers=customer.auth)

    assert resumed.status_code == 202, resumed.text
    assert (resumed.json()["id"], resumed.json()["status"], resumed.json()["attempt"]) == (
        closure["id"],
        "requested",
        2,
    )
    assert again.status_code == 409  # resumed already: nothing paused to resume
    assert again.json()["type"].endswith("/account-closure-not-paused")
    published = await events_about(
        broker.bootstrap_servers, ACCOUNTS.name, customer.id, 3, WAIT_SECONDS
    )
    attempts = [e["data"]["attempt"] for e, _ in published if e["type"] == REQUESTED]
    assert attempts == [1, 2]
    await confirm(producer, closure["id"], customer.id)

    async def closed() -> bool:
        return (await log_in(monolith, customer.email)).status_code == 401

    await eventually(closed, "the account erased", WAIT_SECONDS)
