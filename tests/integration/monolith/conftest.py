"""The monolith on a fresh PostgreSQL database, paying through the real payment simulator.

The simulator (``payment_simulator_app`` in tests/integration/conftest.py) runs in-process
behind ``httpx.ASGITransport``; the monolith reaches it through its real
``HttpPaymentProvider``. E-mail is recorded, not sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.app import build_runtime, create_app
from legacy_monolith.billing.payment_provider import HttpPaymentProvider
from legacy_monolith.database import create_engine
from legacy_monolith.migrate import upgrade_to_head
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.monolith_database import (
    DatabaseState,
    Snapshot,
    database_state,
    insert_plan_catalogue,
)
from tests.support.operator import OPERATOR_TOKEN

JWT_SECRET = "integration-test-secret-with-32-bytes!"
PAYMENT_TIMEOUT_SECONDS = 0.1

Provider = TypeVar("Provider", bound=HttpPaymentProvider)


@pytest.fixture
async def database_url(fresh_database: FreshDatabase) -> str:
    """A new database migrated to head, holding the plan catalogue."""
    url = await fresh_database("monolith", migrate=upgrade_to_head)
    await insert_plan_catalogue(url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of the test's own, to look at the database behind the monolith's back."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def snapshot(engine: AsyncEngine) -> Snapshot:
    async def take() -> DatabaseState:
        return await database_state(engine)

    return take


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
async def client(
    database_url: str, payment_simulator_app: FastAPI, mailer: RecordingMailer
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client into the started monolith."""
    async with monolith_on(database_url, payment_simulator_app, mailer) as client:
        yield client


def simulator_client(payment_simulator_app: FastAPI, kind: type[Provider]) -> Provider:
    """The monolith's real client of the provider (or a test's ``kind`` of it, to step in
    between its calls), reaching the in-process simulator."""
    return kind(
        "http://payment-simulator",
        PAYMENT_TIMEOUT_SECONDS,
        transport=httpx.ASGITransport(app=payment_simulator_app),
    )


@asynccontextmanager
async def monolith_on(
    database_url: str,
    payment_simulator_app: FastAPI,
    mailer: RecordingMailer,
    payments: HttpPaymentProvider | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The monolith started on ``database_url``, paying through the in-process simulator
    (``payments``: a test's own ``simulator_client``)."""
    settings = MonolithSettings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        payment_provider_url="http://payment-simulator",
        payment_timeout_seconds=PAYMENT_TIMEOUT_SECONDS,
        outbox_relay_enabled=False,
    )

    def with_simulator(settings: MonolithSettings) -> Runtime:
        provider = payments or simulator_client(payment_simulator_app, HttpPaymentProvider)
        return build_runtime(settings, payments=provider, mailer=mailer)

    app = create_app(settings, runtime_factory=with_simulator)
    async with started(app, "http://monolith") as client:
        yield client
