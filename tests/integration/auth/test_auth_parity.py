"""Auth parity: the monolith's accounts endpoints and the auth service answer the same
script alike, judged by the rules the gateway's shadow diff uses for ``/api/users`` and
``/api/auth``; the differences that are meant are declared (tests/support/auth_parity.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.app import build_runtime
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.billing.payment_provider import HttpPaymentProvider
from legacy_monolith.migrate import upgrade_to_head as migrate_monolith
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings

from tests.integration.auth.conftest import LEGACY_JWT_SECRET
from tests.integration.auth.parity_script import AUTH_SCRIPT
from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.auth_parity import EXCEPTIONS, auth_parity_rules
from tests.support.operator import OPERATOR_TOKEN
from tests.support.parity import Side, report, run_script

pytestmark = pytest.mark.integration


@pytest.fixture
async def monolith(
    fresh_database: FreshDatabase, payment_simulator_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    database_url = await fresh_database("auth_parity_monolith", migrate=migrate_monolith)

    def runtime(settings: MonolithSettings) -> Runtime:
        payments = HttpPaymentProvider(
            settings.payment_provider_url,
            settings.payment_timeout_seconds,
            transport=httpx.ASGITransport(app=payment_simulator_app),
        )
        return build_runtime(settings, payments=payments, mailer=RecordingMailer())

    app = create_monolith(
        MonolithSettings(
            database_url=database_url,
            jwt_secret=LEGACY_JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            payment_provider_url="http://payment-simulator",
            outbox_relay_enabled=False,
        ),
        runtime_factory=runtime,
    )
    async with started(app, "http://monolith") as client:
        yield client


async def test_auth_answers_every_step_as_the_monolith_does(
    monolith: httpx.AsyncClient, auth: httpx.AsyncClient
) -> None:
    outcomes = await run_script(AUTH_SCRIPT, Side(monolith), Side(auth), auth_parity_rules(), {})

    assert not any(outcome.differences for outcome in outcomes), report(outcomes)


def test_every_declared_exception_names_one_step_of_the_script() -> None:
    names = [step.name for step in AUTH_SCRIPT]

    assert len(names) == len(set(names)), "step names must be unique"
    assert set(EXCEPTIONS) <= set(names), "an exception names no step"
