"""Both sides of billing's data migration, for real: the monolith and the billing service,
each on a fresh PostgreSQL database, each served on a real port (billing reads the
monolith's export over HTTP), paying through the in-process payment simulator.

Tests that sync get a broker of their own: every test's sync consumers read the whole
billing topic, and changes of other tests' customers would only be retried and
dead-lettered here. ``launch(...)`` starts both sides with the background loops a test
asks for; a test may stop them and launch again on the same databases.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.entrypoints.app import create_app as create_billing
from billing_service.settings import BillingSettings
from embedded_broker import EmbeddedBroker
from fastapi import FastAPI
from legacy_monolith.app import build_runtime
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.billing.payment_provider import HttpPaymentProvider
from legacy_monolith.billing.service import issue_due_invoices
from legacy_monolith.migrate import upgrade_to_head
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts.records import BILLING_ENTITIES
from strangler_migration import (
    BackfillProgress,
    EntityChecksums,
    EntityDrift,
    ExportSource,
    HttpExportSource,
    compare_checksums,
)
from strangler_persistence import create_engine

from tests.integration.billing_service.conftest import JWT_SECRET, migrate_and_seed
from tests.integration.conftest import FreshDatabase, create_every_topic
from tests.support.monolith_api import (
    DECLINED_CARD,
    Customer,
    assert_problem,
    pay,
    refund,
    sign_up,
)
from tests.support.monolith_database import insert_plan_catalogue
from tests.support.operator import OPERATOR_HEADERS, OPERATOR_TOKEN
from tests.support.polling import eventually
from tests.support.serving import free_port, serving

PAYMENT_TIMEOUT_SECONDS = 1.0
SYNC_WITHIN_SECONDS = 60.0
MAX_BACKFILL_CALLS = 100

ExportWrapper = Callable[[ExportSource], ExportSource]


@dataclass(frozen=True)
class Databases:
    monolith_url: str
    billing_url: str
    monolith: AsyncEngine
    billing: AsyncEngine


@dataclass(frozen=True)
class Sides:
    """Both sides, started: a client into each (base URL set), and the monolith's app."""

    monolith: httpx.AsyncClient
    billing: httpx.AsyncClient
    monolith_app: FastAPI

    @property
    def monolith_runtime(self) -> Runtime:
        runtime: Runtime = self.monolith_app.root
        return runtime


Launch = Callable[..., AbstractAsyncContextManager[Sides]]


@pytest.fixture
async def databases(fresh_database: FreshDatabase) -> AsyncIterator[Databases]:
    monolith_url = await fresh_database("monolith", migrate=upgrade_to_head)
    await insert_plan_catalogue(monolith_url)
    billing_url = await fresh_database("billing", migrate=migrate_and_seed)
    monolith, billing = create_engine(monolith_url), create_engine(billing_url)
    yield Databases(monolith_url, billing_url, monolith, billing)
    await monolith.dispose()
    await billing.dispose()


@pytest.fixture
def private_broker() -> Iterator[EmbeddedBroker]:
    """A broker of this test's own, with every contract topic."""
    broker = EmbeddedBroker(port=free_port(), after_start=create_every_topic)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def launch(
    databases: Databases,
    payment_simulator_app: FastAPI,
    request: pytest.FixtureRequest,
) -> Launch:
    """``async with launch(events=True, legacy_sync=True, acl=True) as sides: ...``

    ``events``: both outbox relays and billing's registrations consumer run; ``legacy_sync``:
    billing applies the monolith's changes; ``acl``: the monolith applies billing's.
    """

    @asynccontextmanager
    async def start(
        *,
        events: bool = False,
        legacy_sync: bool = False,
        acl: bool = False,
        page_size: int = 200,
        wrap_export: ExportWrapper | None = None,
    ) -> AsyncIterator[Sides]:
        bootstrap = "127.0.0.1:1"  # nothing listens: the loops that would use it are off
        if events or legacy_sync or acl:
            broker: EmbeddedBroker = request.getfixturevalue("private_broker")
            bootstrap = broker.bootstrap_servers
        monolith_settings = MonolithSettings(
            database_url=databases.monolith_url,
            jwt_secret=JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            payment_provider_url="http://payment-simulator",
            payment_timeout_seconds=PAYMENT_TIMEOUT_SECONDS,
            kafka_bootstrap_servers=bootstrap,
            outbox_relay_enabled=events,
            billing_sync_enabled=acl,
        )

        def with_simulator(settings: MonolithSettings) -> Runtime:
            payments = HttpPaymentProvider(
                settings.payment_provider_url,
                settings.payment_timeout_seconds,
                transport=httpx.ASGITransport(app=payment_simulator_app),
            )
            return build_runtime(settings, payments=payments, mailer=RecordingMailer())

        monolith_app = create_monolith(monolith_settings, runtime_factory=with_simulator)
        async with serving(monolith_app) as monolith_url:
            billing_settings = BillingSettings(
                database_url=databases.billing_url,
                jwt_secret=JWT_SECRET,
                operator_token=OPERATOR_TOKEN,
                payment_provider_url="http://payment-simulator",
                payment_timeout_seconds=PAYMENT_TIMEOUT_SECONDS,
                kafka_bootstrap_servers=bootstrap,
                outbox_relay_enabled=events,
                registrations_enabled=events,
                legacy_sync_enabled=legacy_sync,
                monolith_url=monolith_url,
                backfill_page_size=page_size,
                consumer_group=f"billing-{uuid.uuid4().hex[:8]}",
            )
            payments = PaymentSimulatorClient(
                billing_settings.payment_provider_url,
                billing_settings.payment_timeout_seconds,
                transport=httpx.ASGITransport(app=payment_simulator_app),
            )
            export = None
            if wrap_export is not None:
                export = wrap_export(
                    HttpExportSource(f"{monolith_url}/internal/billing", headers=OPERATOR_HEADERS)
                )
            billing_app = create_billing(billing_settings, payments=payments, legacy_export=export)
            async with (
                serving(billing_app) as billing_url,
                httpx.AsyncClient(base_url=monolith_url, timeout=30) as monolith,
                httpx.AsyncClient(base_url=billing_url, timeout=30) as billing,
            ):
                yield Sides(monolith, billing, monolith_app)

    return start


# Writing billing history on either side, the way customers do.


@dataclass(frozen=True)
class History:
    """What ``write_history`` did: the customers, and one subscription per customer."""

    customers: dict[str, Customer]
    subscriptions: dict[str, str]


async def cancel(client: httpx.AsyncClient, customer: Customer, subscription_id: str) -> None:
    response = await client.post(
        f"/api/billing/subscriptions/{subscription_id}/cancel", headers=customer.auth
    )
    assert response.status_code == 200, response.text


async def write_history(
    monolith: httpx.AsyncClient, served_by: httpx.AsyncClient | None = None
) -> History:
    """Four customers signed up at the monolith; their billing done at ``served_by`` (the
    monolith unless given): a partial refund, a declined card then a cancellation, a full
    refund, and one who never subscribes. That is 12 billing events on the serving side."""
    billing_side = served_by or monolith
    alice, bob, carol, dave = [
        await sign_up(monolith, who) for who in ("alice", "bob", "carol", "dave")
    ]
    subscriptions: dict[str, str] = {}
    for customer, plan in ((alice, "pro"), (bob, "starter"), (carol, "business")):
        created = await _subscribe_once_known(billing_side, customer, plan)
        subscriptions[customer.email] = created["subscription"]["id"]
        invoice_id = created["invoice"]["id"]
        if customer is bob:
            assert_problem(
                await pay(billing_side, bob, invoice_id, DECLINED_CARD), 402, "card-declined"
            )
            await cancel(billing_side, bob, subscriptions[bob.email])
            continue
        assert (await pay(billing_side, customer, invoice_id)).status_code == 201
        partial = 900 if customer is alice else None
        assert (await refund(billing_side, customer, invoice_id, partial)).status_code == 201
    customers = {c.email: c for c in (alice, bob, carol, dave)}
    return History(customers, subscriptions)


async def _subscribe_once_known(
    client: httpx.AsyncClient, customer: Customer, plan: str
) -> dict[str, Any]:
    """Subscribe; at billing, once the registration has reached it by its event."""
    answers: list[httpx.Response] = []

    async def subscribed() -> bool:
        answer = await client.post(
            "/api/billing/subscriptions", json={"plan_id": plan}, headers=customer.auth
        )
        answers.append(answer)
        if answer.status_code != 201:
            assert_problem(answer, 409, "customer-unknown")
        return answer.status_code == 201

    await eventually(subscribed, f"{customer.email} can subscribe", SYNC_WITHIN_SECONDS, every=0.2)
    created: dict[str, Any] = answers[-1].json()
    return created


async def renew_every_subscription(sides: Sides, as_of: datetime) -> int:
    """The monolith's billing cycle (``legacy-monolith bill``): a new period, a new invoice."""
    return await issue_due_invoices(sides.monolith_runtime, as_of)


# Looking at both sides through their data-migration endpoints.


async def checksums(client: httpx.AsyncClient, entity: str) -> EntityChecksums:
    response = await client.get(f"/internal/billing/checksums/{entity}", headers=OPERATOR_HEADERS)
    assert response.status_code == 200, response.text
    return EntityChecksums.model_validate_json(response.content)


async def drift(sides: Sides) -> list[EntityDrift]:
    """Every entity that differs between the monolith (left) and billing (right)."""
    drifts = [
        compare_checksums(await checksums(sides.monolith, e), await checksums(sides.billing, e))
        for e in BILLING_ENTITIES
    ]
    return [d for d in drifts if d.drifted]


async def in_sync(sides: Sides, within: float = SYNC_WITHIN_SECONDS) -> None:
    last: list[EntityDrift] = []

    async def no_drift() -> bool:
        nonlocal last
        last = await drift(sides)
        return last == []

    try:
        await eventually(no_drift, "both sides hold the same billing records", within, every=0.3)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still drifted: {last!r}"[:4000]) from None


async def backfill(
    billing: httpx.AsyncClient, *, pages: int = 50, restart: bool = False
) -> BackfillProgress:
    """Drive billing's backfill until it is finished (as `strangler migrate` does)."""
    params: dict[str, str | int] = {"pages": pages, "restart": str(restart).lower()}
    for _ in range(MAX_BACKFILL_CALLS):
        response = await billing.post(
            "/internal/migration/billing/backfill", params=params, headers=OPERATOR_HEADERS
        )
        assert response.status_code == 200, response.text
        progress = BackfillProgress.model_validate_json(response.content)
        if progress.finished:
            return progress
        params["restart"] = "false"
    raise AssertionError(f"the backfill did not finish in {MAX_BACKFILL_CALLS} calls")


async def billing_events_in_outbox(engine: AsyncEngine) -> int:
    """How many billing events one side has recorded to publish."""
    statement = text(
        "SELECT count(*) FROM outbox WHERE event_type LIKE 'dev.strangler-fig.billing.%'"
    )
    async with engine.connect() as connection:
        return int(await connection.scalar(statement) or 0)
