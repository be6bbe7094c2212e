"""The monolith on the session bridge: a user holding the auth service's token is served as
one holding the monolith's, every forged or broken token is a 401 problem document (never a
500, never the account), and a password change still ends every token issued before it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.app import build_runtime, create_app
from legacy_monolith.billing.payment_provider import HttpPaymentProvider
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings
from strangler_tokens import SigningKey

from tests.integration.monolith.conftest import JWT_SECRET, PAYMENT_TIMEOUT_SECONDS
from tests.support.asgi import started
from tests.support.jwks_server import PublishedJwks
from tests.support.monolith_api import PASSWORD, sign_up
from tests.support.operator import OPERATOR_TOKEN
from tests.support.token_forgery import REASONS, attacks, valid_auth_token

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(
    database_url: str,
    payment_simulator_app: FastAPI,
    mailer: RecordingMailer,
    jwks: PublishedJwks,
) -> AsyncIterator[httpx.AsyncClient]:
    """The monolith as `strangler up` runs it on the bridge: the auth service's JWKS set."""
    settings = MonolithSettings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        payment_provider_url="http://payment-simulator",
        payment_timeout_seconds=PAYMENT_TIMEOUT_SECONDS,
        outbox_relay_enabled=False,
        auth_jwks_url=jwks.url,
    )

    def with_simulator(settings: MonolithSettings) -> Runtime:
        payments = HttpPaymentProvider(
            settings.payment_provider_url,
            settings.payment_timeout_seconds,
            transport=httpx.ASGITransport(app=payment_simulator_app),
        )
        return build_runtime(settings, payments=payments, mailer=mailer)

    app = create_app(settings, runtime_factory=with_simulator)
    async with started(app, "http://monolith") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_user_is_served_with_the_auth_service_s_token_as_with_the_monolith_s(
    client: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    user = await sign_up(client, "bridge")
    from_auth = valid_auth_token(signing_key, user.id, user.email)

    for token in (user.token, from_auth):
        me = await client.get("/api/users/me", headers=bearer(token))
        assert me.status_code == 200, me.text
        assert (me.json()["id"], me.json()["email"]) == (user.id, user.email)


async def test_an_auth_token_for_a_user_the_monolith_does_not_hold_is_a_401(
    client: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    token = valid_auth_token(signing_key, "no-such-user", "ghost@example.com")

    me = await client.get("/api/users/me", headers=bearer(token))

    assert me.status_code == 401
    assert "does not exist" in me.json()["detail"]


async def test_a_password_change_ends_the_auth_service_s_tokens_issued_before_it(
    client: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    user = await sign_up(client, "changer")
    from_auth = valid_auth_token(signing_key, user.id, user.email)
    changed = await client.post(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another-horse-battery"},
        headers=user.auth,
    )
    assert changed.status_code == 204, changed.text

    me = await client.get("/api/users/me", headers=bearer(from_auth))

    assert me.status_code == 401
    assert "password changed" in me.json()["detail"]


@pytest.mark.parametrize("attack", sorted(REASONS))
async def test_a_forged_or_broken_token_is_a_401_problem(
    client: httpx.AsyncClient, signing_key: SigningKey, attack: str
) -> None:
    user = await sign_up(client, "target")
    token = attacks(signing_key, user.id)[attack]

    me = await client.get("/api/users/me", headers=bearer(token))

    assert me.status_code == 401, me.text
    assert me.headers["content-type"] == "application/problem+json"
    assert me.headers["www-authenticate"] == "Bearer"
    assert me.json()["type"].endswith("/unauthenticated")
    assert user.email not in me.text
