"""Several saga workers — billing processes on one database — share the checkouts safely, and
when one is killed (SIGKILL) mid-run the others finish its sagas: every checkout completes
exactly once and its customer is charged once. Real processes, real PostgreSQL, the real
payment simulator on a real port, taking a moment over each charge so that the killed worker
dies with charges in flight.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from billing_service.adapters.migrate import upgrade_to_head
from billing_service.adapters.orm import sagas
from billing_service.bootstrap import bootstrap
from billing_service.domain.commands import AddCustomer
from billing_service.service_layer.catalogue import ensure_plan_catalogue
from billing_service.settings import BillingSettings
from payment_simulator.app import create_app as create_payment_simulator
from payment_simulator.settings import Settings as PaymentSimulatorSettings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence import create_engine, create_session_factory

from tests.integration.billing_service.checkouts import charges_for, check_out, settled
from tests.integration.billing_service.conftest import JWT_SECRET, token_for
from tests.integration.conftest import FreshDatabase
from tests.support.billing_process import BillingProcess, launch_billing, wait_until_ready
from tests.support.monolith_api import Customer
from tests.support.operator import OPERATOR_HEADERS, OPERATOR_TOKEN
from tests.support.polling import eventually
from tests.support.serving import serving

pytestmark = pytest.mark.integration

WORKERS = 3
CHECKOUTS = 12
CHARGE_LATENCY_MS = 400


@pytest.fixture
def processes() -> Iterator[list[BillingProcess]]:
    """Every billing process the test starts; none outlives it."""
    started: list[BillingProcess] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
async def database_url(fresh_database: FreshDatabase) -> str:
    return await fresh_database("billing_workers", migrate=upgrade_to_head)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def _customers(database_url: str, engine: AsyncEngine, count: int) -> list[Customer]:
    billing = bootstrap(
        BillingSettings(
            jwt_secret=JWT_SECRET, operator_token=OPERATOR_TOKEN, database_url=database_url
        ),
        create_session_factory(engine),
    )
    await ensure_plan_catalogue(billing.unit_of_work())
    customers = []
    for _ in range(count):
        user_id, email = str(uuid.uuid4()), f"worker-{uuid.uuid4().hex[:8]}@example.com"
        await billing.add_customer(
            AddCustomer(user_id, email, "Worker", datetime.now(UTC), "legacy-monolith")
        )
        customers.append(Customer(user_id, email, "-", token_for(user_id, email)))
    await billing.aclose()
    return customers


async def _held_by(engine: AsyncEngine, pid: int) -> int:
    """Sagas in the middle of an attempt by the worker of ``pid`` (its owner names the pid)."""
    c = sagas.sagas.c
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(c.id).where(c.owner.like(f"%:{pid}:%"), c.attempt_started_at.is_not(None))
        )
        return len(rows.all())


async def test_saga_workers_share_checkouts_and_finish_those_of_a_killed_one_charging_once(
    database_url: str, engine: AsyncEngine, processes: list[BillingProcess], tmp_path: Path
) -> None:
    simulator = create_payment_simulator(PaymentSimulatorSettings(latency_ms=CHARGE_LATENCY_MS))
    async with (
        serving(simulator) as provider_url,
        httpx.AsyncClient(base_url=provider_url, timeout=10) as provider,
    ):
        customers = await _customers(database_url, engine, CHECKOUTS)
        env = {
            "database_url": database_url,
            "jwt_secret": JWT_SECRET,
            "operator_token": OPERATOR_TOKEN,
            "payment_provider_url": provider_url,
            "payment_timeout_seconds": "5",
            "outbox_relay_enabled": "false",
            "registrations_enabled": "false",
            "legacy_sync_enabled": "false",
            "saga_poll_seconds": "0.1",
            "saga_lease_seconds": "1",
            "checkout_payment_timeout_seconds": "5",
            "checkout_charge_attempts": "10",
            "checkout_retry_seconds": "0.2",
        }
        for n in range(WORKERS):
            processes.append(launch_billing(env, tmp_path / f"billing-{n}.log"))
        for process in processes:
            await wait_until_ready(process)
        clients = [httpx.AsyncClient(base_url=p.url, timeout=30) for p in processes]
        try:
            accepted = await asyncio.gather(
                *(check_out(clients[n % WORKERS], customer) for n, customer in enumerate(customers))
            )
            assert [answer.status_code for answer in accepted] == [202] * CHECKOUTS
            victim = processes[0]

            async def victim_is_mid_attempt() -> bool:
                return await _held_by(engine, victim.process.pid) > 0

            await eventually(victim_is_mid_attempt, "the first worker holds a saga mid-attempt", 60)
            orphans = await _held_by(engine, victim.process.pid)
            victim.kill()

            survivor = clients[1]
            ended = [
                await settled(survivor, customer, answer.json()["id"])
                for customer, answer in zip(customers, accepted, strict=True)
            ]
            details = [
                (await survivor.get(f"/internal/sagas/{c['id']}", headers=OPERATOR_HEADERS)).json()
                for c in ended
            ]
            charges = [await charges_for(provider, c["invoice_id"]) for c in ended]
        finally:
            for client in clients:
                await client.aclose()

    assert orphans > 0
    assert [checkout["status"] for checkout in ended] == ["completed"] * CHECKOUTS
    for detail in details:
        succeeded = Counter(
            (entry["step"], entry["phase"])
            for entry in detail["history"]
            if entry["outcome"] == "succeeded"
        )
        assert set(succeeded.values()) == {1}, detail  # every step done once, none undone
        assert succeeded[("activate-subscription", "action")] == 1
    assert [[(c["status"], c["amount_refunded"]) for c in each] for each in charges] == [
        [("succeeded", 0)]
    ] * CHECKOUTS
    interrupted = [
        detail["id"]
        for detail in details
        if any(entry["outcome"] == "interrupted" for entry in detail["history"])
    ]
    assert len(interrupted) >= 1, "the killed worker's attempts were taken over"
