"""The monolith and billing as real processes (``<deployable> serve``) on fresh PostgreSQL
databases, with their background loops off: the tests here talk to their HTTP server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from billing_service.adapters.migrate import upgrade_to_head as migrate_billing
from legacy_monolith.migrate import upgrade_to_head as migrate_monolith

from tests.integration.conftest import FreshDatabase
from tests.support.service_process import ServiceProcess, env_with, launch, wait_until_ready

JWT_SECRET = "serving-test-secret-with-at-least-32-bytes"
OPERATOR_TOKEN = "serving-test-operator-token"
BODY_TIMEOUT_SECONDS = "1"
MAX_BODY_BYTES = 64 * 1024


@dataclass
class Deployable:
    """A started deployable and what its API accepts a large JSON body on."""

    process: ServiceProcess
    body_path: str
    body_accepted_status: int
    auth_headers: tuple[str, ...] = field(default=())
    max_body_bytes: int = MAX_BODY_BYTES

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def port(self) -> int:
        return self.process.port

    def unique_email(self) -> str:
        return f"serving-{uuid.uuid4().hex[:10]}@example.com"


def _monolith(database_url: str, log_path: Path) -> Deployable:
    env = env_with(
        "MONOLITH_",
        {
            "database_url": database_url,
            "jwt_secret": JWT_SECRET,
            "operator_token": OPERATOR_TOKEN,
            "outbox_relay_enabled": "false",
            "body_timeout_seconds": BODY_TIMEOUT_SECONDS,
        },
    )
    process = launch(
        "legacy-monolith", "legacy-monolith", env, log_path, ready_path="/health/ready"
    )
    return Deployable(process, "/api/users", 201)


def _billing(database_url: str, log_path: Path) -> Deployable:
    env = env_with(
        "BILLING_",
        {
            "database_url": database_url,
            "jwt_secret": JWT_SECRET,
            "operator_token": OPERATOR_TOKEN,
            "outbox_relay_enabled": "false",
            "registrations_enabled": "false",
            "sagas_enabled": "false",
            "body_timeout_seconds": BODY_TIMEOUT_SECONDS,
        },
    )
    process = launch("billing", "billing-service", env, log_path, ready_path="/health/ready")
    # No bearer token: the body is read whole and the app answers 401, not the server 431.
    return Deployable(process, "/api/billing/subscriptions", 401)


@pytest.fixture(params=["legacy-monolith", "billing"])
async def deployable(
    request: pytest.FixtureRequest, fresh_database: FreshDatabase, tmp_path: Path
) -> AsyncIterator[Deployable]:
    if request.param == "legacy-monolith":
        url = await fresh_database("monolith", migrate=migrate_monolith)
        started = _monolith(url, tmp_path / "monolith.log")
    else:
        url = await fresh_database("billing", migrate=migrate_billing)
        started = _billing(url, tmp_path / "billing.log")
    try:
        await wait_until_ready(started.process)
        yield started
    finally:
        started.process.stop()
