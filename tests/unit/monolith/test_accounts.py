"""Registering, logging in, the current user and changing the password."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.security import TokenIssuer
from legacy_monolith.settings import MonolithSettings

from tests.support.monolith_api import (
    PASSWORD,
    Customer,
    Subscriber,
    assert_problem,
    log_in,
    register,
    sign_up,
    unique_email,
)


async def test_registering_creates_the_account_and_mails_a_welcome(
    client: httpx.AsyncClient, mailer: RecordingMailer
) -> None:
    email = unique_email("ada")

    response = await register(client, email, name="Ada Lovelace")

    assert response.status_code == 201
    assert response.headers["location"] == "/api/users/me"
    account = response.json()
    assert set(account) == {"id", "email", "name", "created_at"}
    assert (account["email"], account["name"]) == (email, "Ada Lovelace")
    assert [(mail.to, mail.subject) for mail in mailer.sent] == [
        (email, "Welcome to Strangler Fig, Ada Lovelace")
    ]
    token = (await log_in(client, email)).json()["access_token"]
    notifications = await client.get(
        "/api/notifications", headers={"Authorization": f"Bearer {token}"}
    )
    assert [(n["kind"], n["status"], n["recipient"]) for n in notifications.json()["items"]] == [
        ("welcome", "sent", email)
    ]


async def test_an_email_is_stored_in_lower_case(client: httpx.AsyncClient) -> None:
    email = unique_email("Grace.Hopper")

    response = await register(client, email.upper())

    assert response.json()["email"] == email.lower()
    assert (await log_in(client, email.lower())).status_code == 200


async def test_logging_in_answers_a_bearer_token(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)

    response = await log_in(client, email)

    assert response.status_code == 200
    token = response.json()
    assert set(token) == {"access_token", "token_type", "expires_in"}
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 3600
    assert token["access_token"]


async def test_me_is_the_account_the_token_belongs_to(
    client: httpx.AsyncClient, subscriber: Subscriber
) -> None:
    customer = await sign_up(client, "me")

    mine = await client.get("/api/users/me", headers=customer.auth)
    theirs = await client.get("/api/users/me", headers=subscriber.customer.auth)

    assert mine.status_code == 200
    assert (mine.json()["id"], mine.json()["email"]) == (customer.id, customer.email)
    assert theirs.json()["id"] == subscriber.customer.id


@pytest.mark.parametrize("who", ["known e-mail, wrong password", "unknown e-mail"])
async def test_wrong_credentials_are_refused_with_a_problem(
    client: httpx.AsyncClient, who: str
) -> None:
    email = unique_email()
    await register(client, email)
    if who == "unknown e-mail":
        response = await log_in(client, unique_email("nobody"))
    else:
        response = await log_in(client, email, "not-the-password")

    problem = assert_problem(response, 401, "invalid-credentials")
    assert "access_token" not in problem
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("spelling", [str, str.upper, str.title])
async def test_an_email_registers_only_once_however_it_is_cased(
    client: httpx.AsyncClient, mailer: RecordingMailer, spelling: Callable[[str], str]
) -> None:
    email = unique_email("twin")
    await register(client, email)

    response = await register(client, spelling(email), name="Evil Twin")

    problem = assert_problem(response, 409, "duplicate-email")
    assert email in problem["detail"]
    assert len(mailer.sent) == 1


async def test_changing_the_password_revokes_old_tokens_and_the_old_password(
    client: httpx.AsyncClient, subscriber: Subscriber, mailer: RecordingMailer
) -> None:
    customer = subscriber.customer

    changed = await client.post(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
        headers=customer.auth,
    )

    assert changed.status_code == 204
    stale = await client.get("/api/users/me", headers=customer.auth)
    assert_problem(stale, 401, "unauthenticated")
    assert_problem(await log_in(client, customer.email, PASSWORD), 401, "invalid-credentials")
    fresh = await log_in(client, customer.email, "a-brand-new-password")
    assert fresh.status_code == 200
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}
    )
    assert me.json()["id"] == customer.id
    assert [mail.subject for mail in mailer.sent] == ["Your password was changed"]


async def test_changing_the_password_needs_the_current_one(
    client: httpx.AsyncClient, subscriber: Subscriber
) -> None:
    customer = subscriber.customer

    response = await client.post(
        "/api/users/me/password",
        json={"current_password": "a-guess-at-it", "new_password": "a-brand-new-password"},
        headers=customer.auth,
    )

    assert_problem(response, 403, "wrong-password")
    assert (await client.get("/api/users/me", headers=customer.auth)).status_code == 200


def _no_header(customer: Customer, settings: MonolithSettings) -> dict[str, str]:
    return {}


def _garbage_bearer(customer: Customer, settings: MonolithSettings) -> dict[str, str]:
    return {"Authorization": "Bearer not-a-token"}


def _basic_credentials(customer: Customer, settings: MonolithSettings) -> dict[str, str]:
    return {"Authorization": "Basic YWRhOnBhc3N3b3Jk"}


def _signed_with_another_key(customer: Customer, settings: MonolithSettings) -> dict[str, str]:
    forger = TokenIssuer("another-secret-that-is-32-bytes-long!", settings.jwt_issuer, 3600)
    return {"Authorization": f"Bearer {forger.issue(customer.id, customer.email)}"}


def _expired(customer: Customer, settings: MonolithSettings) -> dict[str, str]:
    issuer = TokenIssuer(settings.jwt_secret.get_secret_value(), settings.jwt_issuer, 60)
    token = issuer.issue(customer.id, customer.email, now=datetime.now(UTC) - timedelta(hours=2))
    return {"Authorization": f"Bearer {token}"}


def _for_an_unknown_user(customer: Customer, settings: MonolithSettings) -> dict[str, str]:
    issuer = TokenIssuer(settings.jwt_secret.get_secret_value(), settings.jwt_issuer, 60)
    return {"Authorization": f"Bearer {issuer.issue('no-such-user', 'ghost@example.com')}"}


@pytest.mark.parametrize(
    "credentials",
    [
        _no_header,
        _garbage_bearer,
        _basic_credentials,
        _signed_with_another_key,
        _expired,
        _for_an_unknown_user,
    ],
    ids=lambda credentials: credentials.__name__.strip("_"),
)
async def test_requests_without_a_valid_bearer_token_are_refused(
    client: httpx.AsyncClient,
    subscriber: Subscriber,
    settings: MonolithSettings,
    credentials: Callable[[Customer, MonolithSettings], dict[str, str]],
) -> None:
    customer = subscriber.customer

    response = await client.get("/api/users/me", headers=credentials(customer, settings))

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert customer.email not in response.text
