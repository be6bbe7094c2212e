"""Participants of the account closure on real infrastructure: billing on a fresh PostgreSQL
database, the session's embedded broker, the real payment simulator behind billing.
Billing's own fixtures (database, settings) are billing's integration tests'."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.entrypoints.app import create_app
from embedded_broker import EmbeddedBroker
from fastapi import FastAPI
from strangler_eventing import BrokerConfig, create_producer

from tests.integration.billing_service.checkouts import in_process_payments
from tests.integration.billing_service.conftest import (
    BASE_URL,
    SettingsFactory,
    database_url,
    engine,
    settings,
)
from tests.support.asgi import started

__all__ = [
    "BillingFactory",
    "billing",
    "database_url",
    "engine",
    "group",
    "producer",
    "settings",
    "start_billing",
]

BillingFactory = Callable[..., AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]]


@pytest.fixture
def group() -> str:
    """Billing's consumer group for this test: it reads the shared broker's topics whole."""
    return f"billing-closure-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def start_billing(
    settings: SettingsFactory,
    broker: EmbeddedBroker,
    payment_simulator_app: FastAPI,
    group: str,
) -> BillingFactory:
    """Billing with everything a participant needs running — the consumer of
    ``strangler.accounts``, the saga loop, the outbox relay — and the choreography view;
    keyword arguments override its settings."""

    @asynccontextmanager
    async def start(**overrides: object) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        resolved = settings(
            **{
                "registrations_enabled": True,
                "outbox_relay_enabled": True,
                "choreography_view_enabled": True,
                "consumer_group": group,
                "choreography_group": f"{group}-view",
                "kafka_bootstrap_servers": broker.bootstrap_servers,
                "saga_poll_seconds": 0.2,
                "checkout_retry_seconds": 0.1,
                **overrides,
            }
        )
        payments = in_process_payments(resolved, payment_simulator_app, PaymentSimulatorClient)
        app = create_app(resolved, payments=payments)
        async with started(app, BASE_URL) as client:
            yield app, client

    return start


@pytest.fixture
async def billing(
    start_billing: BillingFactory,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with start_billing() as running:
        yield running


@pytest.fixture
async def producer(broker: EmbeddedBroker) -> AsyncIterator[AIOKafkaProducer]:
    """Publishes what the other participants would."""
    producer = create_producer(BrokerConfig(bootstrap_servers=broker.bootstrap_servers))
    await producer.start()
    yield producer
    await producer.stop()
