"""The monolith built by its composition root with fakes: a fresh SQLite file per test, an
in-memory payment provider and a recording mailer. Nothing here touches the network.

Each test's database is a copy of one prepared at the start of the session: migrated, with
the plan catalogue and one ``subscriber``.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.app import build_runtime, create_app
from legacy_monolith.migrate import upgrade_to_head
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings

from tests.support.asgi import started
from tests.support.monolith_api import Subscriber, sign_up_and_subscribe
from tests.support.monolith_database import (
    DatabaseState,
    Snapshot,
    database_state,
    insert_plan_catalogue,
)
from tests.support.operator import OPERATOR_TOKEN
from tests.unit.monolith.fakes import FakePaymentProvider

JWT_SECRET = "unit-test-secret-with-32-bytes-min!!"
BASE_URL = "http://monolith"

RuntimeFactory = Callable[[MonolithSettings], Runtime]


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _copy_database(source: Path, directory: Path) -> Path:
    target = directory / source.name
    shutil.copyfile(source, target)
    return target


def _monolith(database: Path, runtime_factory: RuntimeFactory) -> FastAPI:
    settings = MonolithSettings(
        database_url=_sqlite_url(database),
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        outbox_relay_enabled=False,
    )
    return create_app(settings, runtime_factory=runtime_factory)


def _with_fakes(payments: FakePaymentProvider, mailer: RecordingMailer) -> RuntimeFactory:
    return lambda settings: build_runtime(settings, payments=payments, mailer=mailer)


@pytest.fixture(scope="session")
def prepared_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Subscriber]:
    """Migrated to head, holding the plan catalogue and one subscriber; built once.

    Every test starts from its own copy. Password hashing is slow on purpose, so tests
    that need *a* customer with an open invoice use this one instead of registering.
    """
    path = tmp_path_factory.mktemp("prepared") / "monolith.db"
    upgrade_to_head(_sqlite_url(path))

    async def subscribe_someone() -> Subscriber:
        await insert_plan_catalogue(_sqlite_url(path))
        app = _monolith(path, _with_fakes(FakePaymentProvider(), RecordingMailer()))
        async with started(app, BASE_URL) as client:
            return await sign_up_and_subscribe(client)

    return path, asyncio.run(subscribe_someone())


@pytest.fixture
def database(prepared_database: tuple[Path, Subscriber], tmp_path: Path) -> Path:
    """A fresh copy of the prepared database for this test alone."""
    return _copy_database(prepared_database[0], tmp_path)


@pytest.fixture
def subscriber(prepared_database: tuple[Path, Subscriber]) -> Subscriber:
    """The prepared database's customer: signed in, subscribed to Pro, one open invoice."""
    return prepared_database[1]


@pytest.fixture
def settings(database: Path) -> MonolithSettings:
    return MonolithSettings(
        database_url=_sqlite_url(database),
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        outbox_relay_enabled=False,
    )


@pytest.fixture
def payments() -> FakePaymentProvider:
    return FakePaymentProvider()


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
def runtime_factory(payments: FakePaymentProvider, mailer: RecordingMailer) -> RuntimeFactory:
    return _with_fakes(payments, mailer)


@pytest.fixture
def app(settings: MonolithSettings, runtime_factory: RuntimeFactory) -> FastAPI:
    return create_app(settings, runtime_factory=runtime_factory)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with started(app, BASE_URL) as client:
        yield client


@pytest.fixture
async def runtime(
    settings: MonolithSettings, runtime_factory: RuntimeFactory
) -> AsyncIterator[Runtime]:
    """A second runtime on the same database, for jobs that run outside a request."""
    runtime = runtime_factory(settings)
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
def snapshot(app: FastAPI, client: httpx.AsyncClient) -> Snapshot:
    """Row counts and a checksum of every table, read through the running app's engine."""

    async def take() -> DatabaseState:
        runtime: Runtime = app.root
        return await database_state(runtime.engine)

    return take
