"""Billing on the session bridge: it serves a customer with the auth service's token as with
the monolith's, and answers every forged or broken token with a 401 problem document —
never a 500, never the customer's data."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.domain.commands import AddCustomer
from billing_service.entrypoints.app import create_app
from fastapi import FastAPI
from strangler_tokens import SigningKey

from tests.integration.billing_service.conftest import BASE_URL, SettingsFactory, token_for
from tests.support.asgi import started
from tests.support.jwks_server import PublishedJwks
from tests.support.monolith_api import unique_email
from tests.support.token_forgery import REASONS, attacks, valid_auth_token

pytestmark = pytest.mark.integration


@pytest.fixture
def app(settings: SettingsFactory, payment_simulator_app: FastAPI, jwks: PublishedJwks) -> FastAPI:
    resolved = settings(auth_jwks_url=jwks.url)
    payments = PaymentSimulatorClient(
        resolved.payment_provider_url,
        resolved.payment_timeout_seconds,
        transport=httpx.ASGITransport(app=payment_simulator_app),
    )
    return create_app(resolved, payments=payments)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with started(app, BASE_URL) as client:
        yield client


@pytest.fixture
async def customer_id(app: FastAPI, client: httpx.AsyncClient) -> str:
    user_id, email = str(uuid.uuid4()), unique_email("bridge")
    await app.root.billing.add_customer(
        AddCustomer(user_id, email, "Bridge", datetime.now(UTC), "legacy-monolith")
    )
    return user_id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_customer_is_served_with_the_auth_service_s_token_and_the_monolith_s(
    client: httpx.AsyncClient, customer_id: str, signing_key: SigningKey, jwks: PublishedJwks
) -> None:
    for token in (valid_auth_token(signing_key, customer_id), token_for(customer_id, "x@e.com")):
        answer = await client.get("/api/billing/subscriptions", headers=bearer(token))
        assert answer.status_code == 200, answer.text
    assert jwks.fetches == 1


@pytest.mark.parametrize("attack", sorted(REASONS))
async def test_a_forged_or_broken_token_is_a_401_problem(
    client: httpx.AsyncClient, customer_id: str, signing_key: SigningKey, attack: str
) -> None:
    token = attacks(signing_key, customer_id)[attack]

    answer = await client.get("/api/billing/subscriptions", headers=bearer(token))

    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["type"].endswith("/unauthenticated")
