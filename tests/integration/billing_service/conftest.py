"""The billing service on a fresh PostgreSQL database, paying through the real payment
simulator (in-process, behind ``httpx.ASGITransport``) with its real HTTP client.

Customers are added the way the registration consumer adds them, and carry a bearer token
minted by the monolith's own token issuer: billing must trust exactly what the monolith
issues. The background loops (outbox relay, registrations) are off unless a test turns them
on against the session's broker.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from billing_service.adapters.migrate import upgrade_to_head
from billing_service.adapters.orm import metadata
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.bootstrap import bootstrap
from billing_service.domain.commands import AddCustomer
from billing_service.entrypoints.app import create_app
from billing_service.service_layer.billing import Billing
from billing_service.service_layer.catalogue import ensure_plan_catalogue
from billing_service.settings import BillingSettings
from fastapi import FastAPI
from legacy_monolith.security import TokenIssuer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence import create_engine, create_session_factory

from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.monolith_api import PASSWORD, Customer, unique_email
from tests.support.monolith_database import DatabaseState, Snapshot
from tests.support.operator import OPERATOR_TOKEN

JWT_SECRET = "integration-test-secret-with-32-bytes!"
PAYMENT_TIMEOUT_SECONDS = 0.1
BASE_URL = "http://billing"

SettingsFactory = Callable[..., BillingSettings]


def migrate_and_seed(database_url: str) -> None:
    """What ``billing-service prepare`` does: schema at head, then the plan catalogue."""
    upgrade_to_head(database_url)

    async def seed() -> None:
        engine = create_engine(database_url)
        try:
            billing = bootstrap(
                BillingSettings(jwt_secret=JWT_SECRET, operator_token=OPERATOR_TOKEN),
                create_session_factory(engine),
            )
            await ensure_plan_catalogue(billing.unit_of_work())
            await billing.aclose()
        finally:
            await engine.dispose()

    asyncio.run(seed())


async def billing_state(engine: AsyncEngine) -> DatabaseState:
    """Row counts of every billing table and one checksum over all their rows."""
    digest = hashlib.sha256()
    row_counts: dict[str, int] = {}
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = (await connection.execute(select(table).order_by(*table.primary_key))).all()
            row_counts[table.name] = len(rows)
            digest.update(table.name.encode())
            for row in rows:
                digest.update(repr(tuple(row)).encode())
    return DatabaseState(row_counts, digest.hexdigest())


@pytest.fixture
async def database_url(fresh_database: FreshDatabase) -> str:
    return await fresh_database("billing", migrate=migrate_and_seed)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of the test's own, to look at the database behind the service's back."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def snapshot(engine: AsyncEngine) -> Snapshot:
    async def take() -> DatabaseState:
        return await billing_state(engine)

    return take


@pytest.fixture
def settings(database_url: str) -> SettingsFactory:
    """Billing's settings for this test's database; keyword arguments override them."""

    def make(**overrides: object) -> BillingSettings:
        values: dict[str, object] = {
            "database_url": database_url,
            "jwt_secret": JWT_SECRET,
            "operator_token": OPERATOR_TOKEN,
            "payment_provider_url": "http://payment-simulator",
            "payment_timeout_seconds": PAYMENT_TIMEOUT_SECONDS,
            "outbox_relay_enabled": False,
            "registrations_enabled": False,
        }
        return BillingSettings.model_validate(values | overrides)

    return make


@pytest.fixture
def app(settings: SettingsFactory, payment_simulator_app: FastAPI) -> FastAPI:
    resolved = settings()
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


def token_for(user_id: str, email: str) -> str:
    """A bearer token exactly as the monolith's login issues it."""
    return TokenIssuer(JWT_SECRET, "legacy-monolith", 3600).issue(user_id, email)


async def known_customer(app: FastAPI, who: str = "customer") -> Customer:
    """A user whose registration billing has received, signed in."""
    user_id, email = str(uuid.uuid4()), unique_email(who)
    billing: Billing = app.root.billing
    await billing.add_customer(
        AddCustomer(user_id, email, who.capitalize(), datetime.now(UTC), "legacy-monolith")
    )
    return Customer(user_id, email, PASSWORD, token_for(user_id, email))


@pytest.fixture
async def customer(app: FastAPI, client: httpx.AsyncClient) -> Customer:
    return await known_customer(app)
