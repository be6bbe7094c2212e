"""Notifications on the session bridge: a user signed in at the auth service reads and
changes their preferences with auth's EdDSA token as with the monolith's HS256 token (the
same preferences either way), the auth service's keys are fetched once for the process, not
per request; every forged or broken token — one signed by a key auth never published first
— is a 401 problem document, and keys that cannot be fetched are a 503, never a 401."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from notifications_service.entrypoints.app import create_app
from strangler_tokens import SigningKey

from tests.integration.notifications.conftest import BASE_URL, SettingsFactory, User, new_user
from tests.support.asgi import started
from tests.support.jwks_server import JWKS_PATH, PublishedJwks
from tests.support.running_system import free_port
from tests.support.token_forgery import REASONS, attacks, valid_auth_token

pytestmark = pytest.mark.integration

PREFERENCES = "/api/notifications/preferences"
QUIET = {"consumer_enabled": False, "sender_enabled": False, "outbox_relay_enabled": False}


@pytest.fixture
async def client(
    settings: SettingsFactory, jwks: PublishedJwks
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings(auth_jwks_url=jwks.url, **QUIET))
    async with started(app, BASE_URL) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_problem(answer: httpx.Response, status: int, kind: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith(f"/{kind}")


async def test_a_user_signed_in_at_auth_reads_and_changes_their_preferences(
    client: httpx.AsyncClient, signing_key: SigningKey, jwks: PublishedJwks
) -> None:
    user: User = new_user("bridged")
    auth_token = valid_auth_token(signing_key, user.id, user.email)

    changed = await client.put(
        PREFERENCES,
        headers=bearer(auth_token),
        json={"account_emails": True, "billing_emails": False},
    )
    assert changed.status_code == 200, changed.text
    read_with_auth = await client.get(PREFERENCES, headers=bearer(auth_token))
    read_with_monolith = await client.get(PREFERENCES, headers=user.headers)

    for answer in (read_with_auth, read_with_monolith):
        assert answer.status_code == 200, answer.text
        assert answer.json()["billing_emails"] is False
        assert answer.json()["account_emails"] is True
    assert jwks.fetches == 1


async def test_a_forged_or_broken_token_is_a_401_problem(
    client: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    user = new_user("forger")
    forged = attacks(signing_key, user.id)
    assert set(forged) == set(REASONS)

    for attack, token in forged.items():
        answer = await client.get(PREFERENCES, headers=bearer(token))
        _assert_problem(answer, 401, "unauthenticated")
        assert answer.headers["www-authenticate"] == "Bearer", attack

    unknown = await client.get(PREFERENCES, headers=bearer(forged["unknown-kid"]))
    assert "signing key" in unknown.json()["detail"]


async def test_auth_s_keys_out_of_reach_are_a_503_and_the_monolith_s_tokens_still_work(
    settings: SettingsFactory, signing_key: SigningKey
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}{JWKS_PATH}"
    user = new_user("stranded")
    app = create_app(settings(auth_jwks_url=nowhere, **QUIET))
    async with started(app, BASE_URL) as client:
        answer = await client.get(
            PREFERENCES, headers=bearer(valid_auth_token(signing_key, user.id))
        )
        _assert_problem(answer, 503, "service-unavailable")
        assert answer.headers["retry-after"] == "10"

        legacy = await client.get(PREFERENCES, headers=user.headers)
        assert legacy.status_code == 200, legacy.text
