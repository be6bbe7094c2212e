"""A billing process killed (SIGKILL) while a checkout waits on the provider's answer to its
charge, and the next billing process finishing that checkout: real processes, real PostgreSQL,
the real payment simulator on a real port.

The charge the dead process asked for goes on at the provider. The next process finds the
saga in flight once the dead one's lease has expired, records the cut-short attempt as
``interrupted``, and asks the provider again under the same idempotency key — which answers
the charge it made, so the customer is charged once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from billing_service.adapters.orm import payments, sagas
from billing_service.bootstrap import bootstrap
from billing_service.domain.commands import AddCustomer
from billing_service.settings import BillingSettings
from payment_simulator.app import create_app as create_payment_simulator
from payment_simulator.settings import Settings as PaymentSimulatorSettings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence import create_session_factory

from tests.integration.billing_service.checkouts import charges_for, check_out, settled
from tests.integration.billing_service.conftest import JWT_SECRET, token_for
from tests.support.billing_process import BillingProcess, launch_billing, wait_until_ready
from tests.support.monolith_api import GOOD_CARD, HANGING_CARD, Customer
from tests.support.operator import OPERATOR_HEADERS, OPERATOR_TOKEN
from tests.support.serving import serving

pytestmark = pytest.mark.integration

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class ChargeRequests:
    """The simulator, noting each charge request as it arrives (before it is answered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.received = 0
        self.first = asyncio.Event()

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] == "http" and (scope["method"], scope["path"]) == ("POST", "/v1/charges"):
            self.received += 1
            self.first.set()
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Provider:
    url: str
    client: httpx.AsyncClient
    requests: ChargeRequests


@dataclass(frozen=True)
class Case:
    card: str
    simulator: PaymentSimulatorSettings
    charge_attempts: int
    ends: str
    charged: list[tuple[str, int]]


CASES = {
    # The provider takes 2.5 s to charge: the process dies waiting, the charge goes through.
    "slow-charge": Case(
        GOOD_CARD, PaymentSimulatorSettings(latency_ms=2500), 10, "completed", [("succeeded", 0)]
    ),
    # The hanging card: the provider's network times out, and it charges nothing, ever.
    "hanging-card": Case(
        HANGING_CARD, PaymentSimulatorSettings(hang_seconds=2), 2, "compensated", []
    ),
}


@pytest.fixture
def processes() -> Iterator[list[BillingProcess]]:
    """Every billing process a test starts; none outlives it."""
    started: list[BillingProcess] = []
    yield started
    for process in started:
        process.stop()


@asynccontextmanager
async def _provider(settings: PaymentSimulatorSettings) -> AsyncIterator[Provider]:
    requests = ChargeRequests(create_payment_simulator(settings))
    async with (
        serving(requests) as url,  # type: ignore[arg-type]
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield Provider(url, client, requests)


async def _registered_customer(database_url: str, engine: AsyncEngine) -> Customer:
    user_id, email = str(uuid.uuid4()), f"crash-{uuid.uuid4().hex[:8]}@example.com"
    billing = bootstrap(
        BillingSettings(
            jwt_secret=JWT_SECRET, operator_token=OPERATOR_TOKEN, database_url=database_url
        ),
        create_session_factory(engine),
    )
    await billing.add_customer(
        AddCustomer(user_id, email, "Crash", datetime.now(UTC), "legacy-monolith")
    )
    await billing.aclose()
    return Customer(user_id, email, "-", token_for(user_id, email))


async def _start(
    processes: list[BillingProcess], env: dict[str, str], log: Path
) -> tuple[BillingProcess, httpx.AsyncClient]:
    billing = launch_billing(env, log)
    processes.append(billing)
    await wait_until_ready(billing)
    return billing, httpx.AsyncClient(base_url=billing.url, timeout=30)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_checkout_a_killed_process_left_is_finished_by_the_next_without_charging_twice(
    case: Case,
    database_url: str,
    engine: AsyncEngine,
    processes: list[BillingProcess],
    tmp_path: Path,
) -> None:
    async with _provider(case.simulator) as provider:
        customer = await _registered_customer(database_url, engine)
        env = {
            "database_url": database_url,
            "jwt_secret": JWT_SECRET,
            "operator_token": OPERATOR_TOKEN,
            "payment_provider_url": provider.url,
            "payment_timeout_seconds": "2",
            "outbox_relay_enabled": "false",
            "registrations_enabled": "false",
            "legacy_sync_enabled": "false",
            "saga_poll_seconds": "0.1",
            "saga_lease_seconds": "1",
            "checkout_payment_timeout_seconds": "5",
            "checkout_charge_attempts": str(case.charge_attempts),
            "checkout_retry_seconds": "0.2",
        }
        log = tmp_path / "billing.log"

        first, client = await _start(processes, env, log)
        async with client:
            accepted = await check_out(client, customer, "pro", case.card)
        assert accepted.status_code == 202, accepted.text
        checkout_id = accepted.json()["id"]
        await asyncio.wait_for(provider.requests.first.wait(), 30)
        first.kill()

        async with engine.connect() as connection:
            saga = (
                await connection.execute(select(sagas.sagas).where(sagas.sagas.c.id == checkout_id))
            ).one()
            key = saga.data["payment_key"]
            payment = (
                await connection.execute(select(payments).where(payments.c.idempotency_key == key))
            ).one()
        assert (saga.status, saga.step_name) == ("running", "charge-card")
        assert saga.attempt_started_at is not None, "it died in the middle of the attempt"
        assert payment.status == "pending"

        second, client = await _start(processes, env, log)
        async with client:
            checkout = await settled(client, customer, checkout_id)
            detail = (
                await client.get(f"/internal/sagas/{checkout_id}", headers=OPERATOR_HEADERS)
            ).json()

        assert checkout["status"] == case.ends, detail
        charge = [(e["phase"], e["outcome"], e["attempt"]) for e in detail["history"]
                  if e["step"] == "charge-card"]  # fmt: skip
        assert charge[0] == ("action", "interrupted", 1)
        assert provider.requests.received >= 2, "the resumed saga asked the provider again"
        charges = await charges_for(provider.client, checkout["invoice_id"])
        assert [(c["status"], c["amount_refunded"]) for c in charges] == case.charged
        second.stop()
