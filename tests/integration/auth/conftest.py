"""The auth service on a fresh PostgreSQL database, served in process.

Its clock is the real one unless a test moves it (``clock``); passwords are real argon2id
with light parameters (``tests.support.auth_api.FAST_PASSWORDS``). The monolith's HS256
tokens are trusted with ``LEGACY_JWT_SECRET``, as the runner configures auth for the bridge.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from auth_service.adapters.migrate import upgrade_to_head
from auth_service.entrypoints.app import create_app
from auth_service.settings import AuthSettings
from pydantic import SecretStr

from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.auth_api import FAST_PASSWORDS
from tests.support.operator import OPERATOR_TOKEN

LEGACY_JWT_SECRET = "auth-integration-legacy-secret-32-bytes!"
BASE_URL = "http://auth"

SettingsFactory = Callable[..., AuthSettings]


class MovableClock:
    """The real time plus whatever a test moved it forward by."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move(self, by: timedelta) -> None:
        self.offset += by


@pytest.fixture
async def auth_database(fresh_database: FreshDatabase) -> str:
    return await fresh_database("auth", migrate=upgrade_to_head)


@pytest.fixture
def auth_settings(auth_database: str) -> SettingsFactory:
    def make(**overrides: object) -> AuthSettings:
        values: dict[str, object] = {
            "database_url": auth_database,
            "operator_token": OPERATOR_TOKEN,
            "legacy_jwt_secret": SecretStr(LEGACY_JWT_SECRET),
            "key_cache_seconds": 0,
            **overrides,
        }
        return AuthSettings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def auth(
    auth_settings: SettingsFactory, clock: MovableClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(auth_settings(), passwords=FAST_PASSWORDS, clock=clock)
    async with started(app, BASE_URL) as client:
        yield client
