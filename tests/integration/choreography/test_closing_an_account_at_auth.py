"""The accounts side of closing an account, played by the auth service once ``/api/users`` is
routed to it: the monolith's contract (status codes, problem types, the closure's id), the
request published through auth's outbox to the real broker, billing's and notifications'
answers followed, and the account erased — credentials, profile, every session — once both
confirmed, published as any change of the record is, so the sync carries it to the monolith.
A declined refund pauses the closure; the user resumes it and it completes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from auth_service.adapters.migrate import upgrade_to_head
from auth_service.entrypoints.app import create_app
from auth_service.settings import AuthSettings
from embedded_broker import EmbeddedBroker
from strangler_contracts.events.account_closure import erased_email
from strangler_contracts.topics import ACCOUNTS, CREDENTIALS

from tests.integration.choreography.closures import DECLINED_REASON, confirm, decline
from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.auth_api import FAST_PASSWORDS, PASSWORD, Account, assert_problem, log_in
from tests.support.broker_records import events_about
from tests.support.monolith_api import unique_email
from tests.support.operator import OPERATOR_TOKEN
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

WAIT_SECONDS = 45.0
CONCURRENT_DELETES = 20
UNICODE_NAME = "Zoë Ångström-Løvdahl 李小龍"
REQUESTED = "dev.strangler-fig.accounts.account-closure-requested.v1"
CLOSED = "dev.strangler-fig.accounts.account-closed.v1"
PROFILE_CHANGED = "dev.strangler-fig.accounts.user-profile-changed.v1"
PASSWORD_CHANGED = "dev.strangler-fig.accounts.password-changed.v1"
ACCOUNT_CHANGED = "dev.strangler-fig.accounts.user-account-changed.v1"


@pytest.fixture
async def auth(
    fresh_database: FreshDatabase, broker: EmbeddedBroker
) -> AsyncIterator[httpx.AsyncClient]:
    """Auth with its outbox relay and the accounts side of closures running."""
    settings = AuthSettings(
        database_url=await fresh_database("auth", migrate=upgrade_to_head),
        operator_token=OPERATOR_TOKEN,
        key_cache_seconds=0,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        outbox_relay_enabled=True,
        account_closure_enabled=True,
        account_closure_group=f"auth-closure-{uuid.uuid4().hex[:10]}",
    )
    app = create_app(settings, passwords=FAST_PASSWORDS)
    async with started(app, "http://auth") as client:
        yield client


async def _sign_up(auth: httpx.AsyncClient, who: str) -> Account:
    email = unique_email(who)
    body = {"email": email, "password": PASSWORD, "name": UNICODE_NAME}
    registered = await auth.post("/api/users", json=body)
    assert registered.status_code == 201, registered.text
    tokens = (await log_in(auth, email)).json()
    return Account(
        registered.json()["id"], email, PASSWORD, tokens["access_token"], tokens["refresh_token"]
    )


async def _closure(auth: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await auth.get("/api/users/me/closure", headers=account.auth)


def _of_type(events: list[tuple[dict[str, Any], dict[str, bytes]]], kind: str) -> list[Any]:
    return [envelope for envelope, _ in events if envelope["type"] == kind]


async def test_twenty_deletes_at_auth_are_one_closure_that_erases_the_account_once_confirmed(
    auth: httpx.AsyncClient, broker: EmbeddedBroker, producer: AIOKafkaProducer
) -> None:
    account = await _sign_up(auth, "closing-at-auth")

    answers = await asyncio.gather(
        *(auth.delete("/api/users/me", headers=account.auth) for _ in range(CONCURRENT_DELETES))
    )

    assert {answer.status_code for answer in answers} == {202}, [a.text for a in answers]
    assert {answer.headers["location"] for answer in answers} == {"/api/users/me/closure"}
    closure = answers[0].json()
    assert {answer.json()["id"] for answer in answers} == {closure["id"]}
    assert (closure["status"], closure["billing"], closure["notifications"]) == (
        "requested",
        None,
        None,
    )
    assert closure["attempt"] == 1
    # registered, then the one request
    published = await events_about(
        broker.bootstrap_servers, ACCOUNTS.name, account.id, 2, WAIT_SECONDS
    )
    (request,) = _of_type(published, REQUESTED)
    assert request["source"] == "/auth"
    assert request["correlationid"] == closure["id"]
    assert request["data"]["display_name"] == UNICODE_NAME
    assert (await _closure(auth, account)).json()["id"] == closure["id"]

    await confirm(producer, closure["id"], account.id)
    # then the erase and AccountClosed; the whole record, for the sync, on the credentials
    closed = await events_about(
        broker.bootstrap_servers, ACCOUNTS.name, account.id, 4, WAIT_SECONDS
    )
    records = await events_about(
        broker.bootstrap_servers, CREDENTIALS.name, account.id, 2, WAIT_SECONDS
    )

    (account_closed,) = _of_type(closed, CLOSED)
    assert account_closed["correlationid"] == closure["id"]
    assert account_closed["source"] == "/auth"
    assert not _of_type(closed, PASSWORD_CHANGED)  # an erase mails nobody
    (renamed,) = _of_type(closed, PROFILE_CHANGED)
    assert renamed["data"]["display_name"] == "Closed account"
    erased = _of_type(records, ACCOUNT_CHANGED)[-1]["data"]
    assert (erased["email"], erased["email_key"]) == (erased_email(account.id),) * 2
    assert erased["password_hash"] == "!erased"
    assert_problem(await _closure(auth, account), 401, "unauthenticated")  # tokens refused
    assert_problem(await log_in(auth, account.email), 401, "invalid-credentials")
    refreshed = await auth.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert_problem(refreshed, 401, "invalid-refresh-token")  # every session ended


async def test_a_refund_declined_pauses_the_closure_and_resuming_it_completes_it(
    auth: httpx.AsyncClient, broker: EmbeddedBroker, producer: AIOKafkaProducer
) -> None:
    account = await _sign_up(auth, "resuming-at-auth")
    closure = (await auth.delete("/api/users/me", headers=account.auth)).json()
    assert_problem(
        await auth.post("/api/users/me/closure/resume", headers=account.auth),
        409,
        "account-closure-not-paused",
    )
    await decline(producer, closure["id"], account.id)

    async def paused() -> bool:
        return bool((await _closure(auth, account)).json()["status"] == "paused")

    await eventually(paused, "the closure paused", WAIT_SECONDS)
    shown = (await _closure(auth, account)).json()
    assert (shown["billing"], shown["declined_reason"]) == ("declined", DECLINED_REASON)
    assert (await log_in(auth, account.email)).status_code == 200  # nothing erased

    resumed = await auth.post("/api/users/me/closure/resume", headers=account.auth)

    assert resumed.status_code == 202, resumed.text
    assert resumed.headers["location"] == "/api/users/me/closure"
    body = resumed.json()
    assert (body["id"], body["status"], body["billing"], body["attempt"]) == (
        closure["id"],
        "requested",
        None,
        2,
    )
    assert body["declined_reason"] is None
    published = await events_about(
        broker.bootstrap_servers, ACCOUNTS.name, account.id, 3, WAIT_SECONDS
    )
    requests = _of_type(published, REQUESTED)
    assert [r["data"]["attempt"] for r in requests] == [1, 2]
    assert {r["correlationid"] for r in requests} == {closure["id"]}

    await confirm(producer, closure["id"], account.id)
    closed = await events_about(
        broker.bootstrap_servers, ACCOUNTS.name, account.id, 5, WAIT_SECONDS
    )

    assert len(_of_type(closed, CLOSED)) == 1
    assert (await log_in(auth, account.email)).status_code == 401


async def test_every_refusal_of_the_closure_is_a_problem_document(
    auth: httpx.AsyncClient,
) -> None:
    account = await _sign_up(auth, "staying-at-auth")

    assert_problem(await _closure(auth, account), 404, "account-closure-not-found")
    assert_problem(
        await auth.post("/api/users/me/closure/resume", headers=account.auth),
        404,
        "account-closure-not-found",
    )
    assert_problem(await auth.delete("/api/users/me"), 401, "unauthenticated")
    assert_problem(await auth.get("/api/users/me/closure"), 401, "unauthenticated")
