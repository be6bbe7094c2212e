"""Fixtures for tests against real infrastructure: a PostgreSQL server, trust auth, the
embedded Kafka-protocol broker, and the real payment simulator (in-process).

The server comes from ``STRANGLER_TEST_POSTGRES_URL`` (default: the local one). Every test
gets databases of its own, created with a random name and dropped when it ends; a database
asked for with a migration is a copy of a template the session migrated once with that same
function (``CREATE DATABASE ... TEMPLATE``: a fraction of a second, where running the
migrations again takes one or more). The broker is one tansu process for the whole session,
on a free port, with every contract topic. ``make integration`` runs two sessions side by side
(pytest-xdist workers, a test file each at a time): each has its own broker and templates, and
shares only the PostgreSQL server, where every name is random.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
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
from strangler_tokens import SigningKey

from tests.support.asgi import started
from tests.support.jwks_server import PublishedJwks, serving_jwks

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


class _MigratedTemplates:
    """One database per migration function, migrated once for the whole session; tests get
    copies. Blocking: called in a thread (``asyncio.to_thread``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_migration: dict[Migrate, str] = {}

    def template_for(self, name_prefix: str, migrate: Migrate) -> str:
        with self._lock:
            if migrate not in self._by_migration:
                name = f"tpl_{name_prefix}_{uuid.uuid4().hex[:12]}"
                asyncio.run(_on_server(f'CREATE DATABASE "{name}"'))
                try:
                    migrate(_async_url(name))
                    # A copy needs its template free of connections; the migration's are
                    # closed, this makes sure.
                    asyncio.run(_on_server(_TERMINATE.format(name=name)))
                except BaseException:
                    asyncio.run(_on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    raise
                self._by_migration[migrate] = name
            return self._by_migration[migrate]

    def drop_all(self) -> None:
        for name in self._by_migration.values():
            asyncio.run(_on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = '{name}' AND pid <> pg_backend_pid()"
)


def _async_url(database: str) -> str:
    url = make_url(_server_url(database)).set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


def _reusable(migrate: Migrate) -> bool:
    """A module-level function, the same object every test: its template can be shared.
    A closure or lambda made per test would only ever serve one database."""
    qualname = getattr(migrate, "__qualname__", "<unknown>")
    return "<" not in qualname


@pytest.fixture(scope="session")
def migrated_templates() -> Iterator[_MigratedTemplates]:
    templates = _MigratedTemplates()
    yield templates
    # A thread of its own: there may be an event loop running here, asyncio.run needs none.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(templates.drop_all).result()


@pytest.fixture
async def fresh_database(
    migrated_templates: _MigratedTemplates,
) -> AsyncIterator[FreshDatabase]:
    """A factory of new databases, each dropped after the test.

    ``await fresh_database("monolith", migrate=upgrade_to_head)`` creates
    ``monolith_<random>`` migrated by the blocking ``migrate`` and answers its
    ``postgresql+asyncpg://`` URL. The first such call in the session runs ``migrate`` on a
    template database; this one and every later call with the same function get a copy of it.
    """
    created: list[str] = []

    async def create(name_prefix: str, migrate: Migrate | None = None) -> str:
        prefix = re.sub(r"[^a-z0-9_]", "_", name_prefix.lower())
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        if migrate is not None and _reusable(migrate):
            template = await asyncio.to_thread(migrated_templates.template_for, prefix, migrate)
            await _on_server(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            created.append(name)
            return _async_url(name)
        await _on_server(f'CREATE DATABASE "{name}"')
        created.append(name)
        rendered = _async_url(name)
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


@pytest.fixture
def signing_key() -> SigningKey:
    """The auth service's signing key, for a test that needs auth's tokens without auth."""
    return SigningKey.generate()


@pytest.fixture
def jwks(signing_key: SigningKey) -> Iterator[PublishedJwks]:
    """``signing_key`` published as auth publishes it, over real HTTP (``serving_jwks``)."""
    with serving_jwks([signing_key]) as published:
        yield published
