"""Fixtures for tests against real infrastructure: a PostgreSQL server, trust auth, the
embedded Kafka-protocol broker, and the real payment simulator (in-process).

The server comes from ``STRANGLER_TEST_POSTGRES_URL`` (default: the local one). Every test
gets databases of its own, created with a random name and dropped when it ends. The broker
is one tansu process for the whole session, on a free port, with every contract topic.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import asyncpg
import httpx
import pytest
from embedded_broker import EmbeddedBroker
from fastapi import FastAPI
from payment_simulator.app import create_app as create_payment_simulator
from payment_simulator.settings import Settings as PaymentSimulatorSettings
from sqlalchemy.engine import make_url
from strangler_contracts import ALL_TOPICS
from strangler_eventing import BrokerConfig, ensure_topics

from tests.support.asgi import started

POSTGRES_URL = os.environ.get(
    "STRANGLER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

SIMULATOR_HANG_SECONDS = 0.3

Migrate = Callable[[str], None]


class FreshDatabase(Protocol):
    def __call__(self, name_prefix: str, migrate: Migrate | None = None) -> Awaitable[str]: ...


def _server_url(database: str | None = None) -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


async def _on_server(statement: str) -> None:
    connection = await asyncpg.connect(_server_url())
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def fresh_database() -> AsyncIterator[FreshDatabase]:
    """A factory of new, empty databases, each dropped after the test.

    ``await fresh_database("monolith", migrate=upgrade_to_head)`` creates
    ``monolith_<random>``, runs the blocking ``migrate`` on it in a thread, and answers its
    ``postgresql+asyncpg://`` URL.
    """
    created: list[str] = []

    async def create(name_prefix: str, migrate: Migrate | None = None) -> str:
        prefix = re.sub(r"[^a-z0-9_]", "_", name_prefix.lower())
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        await _on_server(f'CREATE DATABASE "{name}"')
        created.append(name)
        url = make_url(_server_url(name)).set(drivername="postgresql+asyncpg")
        rendered = url.render_as_string(hide_password=False)
        if migrate is not None:
            await asyncio.to_thread(migrate, rendered)
        return rendered

    yield create
    for name in created:
        await _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def create_every_topic(broker: EmbeddedBroker) -> None:
    """Create the contract topics, with their partition counts; callable inside an event loop."""
    config = BrokerConfig(bootstrap_servers=broker.bootstrap_servers)
    # A thread of its own, so that it also works from an async test calling broker.restart().
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, ensure_topics(config, ALL_TOPICS)).result()


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """The embedded broker on a free port, with every topic of ``ALL_TOPICS``.

    It is shared by the session. ``broker.restart()`` (blocking: from async code use
    ``await asyncio.to_thread(broker.restart)``) empties the log — memory storage, as
    expected — and creates the topics again, so later tests still find them.
    """
    embedded = EmbeddedBroker(port=_free_port(), after_start=create_every_topic)
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture
def payment_simulator_app() -> FastAPI:
    """The real payment simulator, in-process; its hanging card hangs only a moment.

    Clients reach it through ``httpx.ASGITransport(app=payment_simulator_app)``.
    """
    return create_payment_simulator(
        PaymentSimulatorSettings(hang_seconds=SIMULATOR_HANG_SECONDS, latency_ms=0)
    )


@pytest.fixture
async def payment_simulator(
    payment_simulator_app: FastAPI,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client into the simulator, to see which charges it holds."""
    async with started(payment_simulator_app, "http://payment-simulator") as client:
        yield client
