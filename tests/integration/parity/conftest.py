"""Both sides of the billing comparison, each on a fresh PostgreSQL database, both paying
through the same real payment simulator and trusting the same JWT secret.

The users exist on both sides the way they will in production: registered through the
monolith's API, then delivered to billing by the real event path — the monolith's outbox
relay, the session's broker, billing's registrations consumer (a consumer group of the
test's own). The suite waits, bounded, until billing holds every customer before the script
starts (the whole path takes a few seconds, so the fallback — handing billing's registration
handler the contract event directly — is not needed).

The two sides must stay independent runs of the same script: billing's outbox relay is off,
so none of its changes reach the monolith, and only the registrations consumer runs in
billing. A consumer that syncs the monolith's billing events into billing must stay off
here too: it would hand billing the monolith's subscriptions.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from billing_service.adapters.orm import customers
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.entrypoints.app import create_app as create_billing
from billing_service.settings import BillingSettings
from embedded_broker import EmbeddedBroker
from fastapi import FastAPI
from legacy_monolith.app import build_runtime
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.billing.payment_provider import HttpPaymentProvider
from legacy_monolith.migrate import upgrade_to_head as migrate_monolith
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.security import TokenIssuer
from legacy_monolith.settings import MonolithSettings
from sqlalchemy import func, select
from strangler_persistence import create_engine

from tests.integration.billing_service.conftest import migrate_and_seed
from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.monolith_api import Customer, sign_up
from tests.support.monolith_database import insert_plan_catalogue
from tests.support.operator import OPERATOR_TOKEN
from tests.support.parity import Side
from tests.support.polling import eventually

JWT_SECRET = "parity-test-secret-with-at-least-32-bytes"
ISSUER = "legacy-monolith"
PAYMENT_TIMEOUT_SECONDS = 10.0
REGISTRATION_WAIT_SECONDS = 45.0
SIMULATOR_URL = "http://payment-simulator"


@dataclass(frozen=True, repr=False)
class Parity:
    """The two sides, and the ``Authorization`` values a script's steps name as callers."""

    legacy: Side
    new: Side
    credentials: dict[str, str]


def _credentials(ada: Customer, bob: Customer) -> dict[str, str]:
    issuer = TokenIssuer(JWT_SECRET, ISSUER, 3600)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    return {
        "ada": f"Bearer {ada.token}",
        "bob": f"Bearer {bob.token}",
        "a-malformed-token": "Bearer not-a-jwt",
        "a-basic-scheme": "Basic YWRhOnNlY3JldA==",
        "a-token-of-another-secret": "Bearer "
        + TokenIssuer("another-secret-with-at-least-32-bytes!", ISSUER, 3600).issue(
            ada.id, ada.email
        ),
        "an-expired-token": "Bearer "
        + TokenIssuer(JWT_SECRET, ISSUER, 60).issue(ada.id, ada.email, now=an_hour_ago),
        "a-user-billing-never-heard-of": "Bearer "
        + issuer.issue(str(uuid.uuid4()), "nobody@example.com"),
        "a-token-older-than-the-password": "Bearer "
        + issuer.issue(ada.id, ada.email, now=datetime.now(UTC) - timedelta(minutes=5)),
    }


@pytest.fixture
async def parity(
    fresh_database: FreshDatabase, broker: EmbeddedBroker, payment_simulator_app: FastAPI
) -> AsyncIterator[Parity]:
    monolith_url = await fresh_database("parity_monolith", migrate=migrate_monolith)
    await insert_plan_catalogue(monolith_url)
    billing_url = await fresh_database("parity_billing", migrate=migrate_and_seed)
    simulator = httpx.ASGITransport(app=payment_simulator_app)

    def monolith_runtime(settings: MonolithSettings) -> Runtime:
        payments = HttpPaymentProvider(
            settings.payment_provider_url, settings.payment_timeout_seconds, transport=simulator
        )
        return build_runtime(settings, payments=payments, mailer=RecordingMailer())

    monolith = create_monolith(
        MonolithSettings(
            database_url=monolith_url,
            jwt_secret=JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            payment_provider_url=SIMULATOR_URL,
            payment_timeout_seconds=PAYMENT_TIMEOUT_SECONDS,
            kafka_bootstrap_servers=broker.bootstrap_servers,
        ),
        runtime_factory=monolith_runtime,
    )
    billing_settings = BillingSettings(
        database_url=billing_url,
        jwt_secret=JWT_SECRET,
        operator_token=OPERATOR_TOKEN,
        payment_provider_url=SIMULATOR_URL,
        payment_timeout_seconds=PAYMENT_TIMEOUT_SECONDS,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        consumer_group=f"billing-parity-{uuid.uuid4().hex[:10]}",
        outbox_relay_enabled=False,
    )
    billing = create_billing(
        billing_settings,
        payments=PaymentSimulatorClient(
            SIMULATOR_URL, PAYMENT_TIMEOUT_SECONDS, transport=simulator
        ),
    )
    billing_engine = create_engine(billing_url)
    try:
        async with (
            started(monolith, "http://monolith") as legacy_client,
            started(billing, "http://billing") as new_client,
        ):
            ada = await sign_up(legacy_client, "ada")
            bob = await sign_up(legacy_client, "bob")

            async def billing_knows_both() -> bool:
                async with billing_engine.connect() as connection:
                    known = await connection.scalar(
                        select(func.count())
                        .select_from(customers)
                        .where(customers.c.id.in_([ada.id, bob.id]))
                    )
                return known == 2

            await eventually(
                billing_knows_both,
                "billing received both registrations",
                REGISTRATION_WAIT_SECONDS,
            )
            yield Parity(Side(legacy_client), Side(new_client), _credentials(ada, bob))
    finally:
        await billing_engine.dispose()
