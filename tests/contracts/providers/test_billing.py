"""Billing honours every pact that names it: the ``strangler`` command's (its sagas and its
data-migration endpoints, the backfill among them) and the gateway's (the checkout it routes
to billing).

The provider is the real ``billing-service`` process on SQLite, with its background work
off: no broker (relay, registrations, legacy sync), and sagas recorded but not driven, so a
checkout stays where a customer's request left it — running, at its first step. Behind it
runs a real monolith, whose export the backfill reads.

Provider states go through billing's own code: the customer as billing's registration
consumer adds one (its service layer, on the process's database), the checkout as a
customer starts one (``POST /api/billing/checkout`` with a token the monolith's login
issues). Each state answers the verifier the values the requests take from it: the
checkout's id, the operator's token, a customer's token.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from billing_service.bootstrap import bootstrap, bootstrap_process
from billing_service.domain.commands import AddCustomer
from billing_service.settings import BillingSettings
from legacy_monolith.security import TokenIssuer
from strangler_contracts import AccountClosureRequested
from strangler_persistence import create_engine, create_session_factory
from strangler_sagas.choreography import SeenEvent

from tests.contracts.providers.monolith_state import (
    JWT_SECRET,
    OPERATOR_TOKEN,
    monolith_process,
    register_customer,
)
from tests.contracts.verification import Verification, provider_process, verify

CUSTOMER_ID, EMAIL = "42", "ada@example.com"
SHOPPER_ID, SHOPPER_EMAIL = "43", "grace@example.com"
CHECKOUT_KEY = "contract-checkout-1"
CLOSURE_ID = str(uuid.uuid4())
GOOD_CARD = "4242424242424242"


def test_billing_honours_its_consumers(tmp_path: Path) -> None:
    with monolith_process(tmp_path) as monolith:
        verification = _verify_billing(tmp_path, monolith.url)
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 9


def _verify_billing(tmp_path: Path, monolith_url: str) -> Verification:
    """Billing pointed at the monolith at ``monolith_url``, every pact naming it replayed."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"
    settings = {
        "BILLING_MONOLITH_URL": monolith_url,
        "BILLING_DATABASE_URL": database_url,
        "BILLING_JWT_SECRET": JWT_SECRET,
        "BILLING_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "BILLING_OUTBOX_RELAY_ENABLED": "false",
        "BILLING_REGISTRATIONS_ENABLED": "false",
        "BILLING_LEGACY_SYNC_ENABLED": "false",
        "BILLING_SAGAS_ENABLED": "false",
    }
    with provider_process(
        "billing", "billing-service", settings, tmp_path, prepare=True
    ) as billing:

        def token_of(customer_id: str, email: str) -> str:
            return TokenIssuer(JWT_SECRET, "legacy-monolith", 3600).issue(customer_id, email)

        def one_customer() -> dict[str, object]:
            asyncio.run(add_customer(database_url, CUSTOMER_ID, EMAIL))
            return {
                "operator_token": OPERATOR_TOKEN,
                "customer_token": token_of(CUSTOMER_ID, EMAIL),
                "billing_customers_id": CUSTOMER_ID,
            }

        def a_customer_at_the_monolith() -> dict[str, object]:
            register_customer(monolith_url)
            return {"operator_token": OPERATOR_TOKEN}

        def a_checkout() -> dict[str, object]:
            # Another customer's: the first one's checkout is the one a pact starts.
            asyncio.run(add_customer(database_url, SHOPPER_ID, SHOPPER_EMAIL))
            token = token_of(SHOPPER_ID, SHOPPER_EMAIL)
            # The same key each time: the second setup answers the same checkout.
            started = httpx.post(
                f"{billing.url}/api/billing/checkout",
                json={"plan_id": "pro", "card_number": GOOD_CARD},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": CHECKOUT_KEY},
                timeout=30,
            )
            assert started.status_code == 202, started.text
            return {
                "operator_token": OPERATOR_TOKEN,
                "customer_token": token,
                "checkout_id": started.json()["id"],
            }

        def a_closure() -> dict[str, object]:
            asyncio.run(request_closure(database_url, CLOSURE_ID, SHOPPER_ID))
            return {"operator_token": OPERATOR_TOKEN, "closure_id": CLOSURE_ID}

        # The bearers come from the states too: the operator's for the command's calls, a
        # customer's for the gateway's.
        return verify(
            "billing",
            billing.url,
            states={
                "one customer is known to billing": one_customer,
                "a customer has started a checkout at billing": a_checkout,
                "an account closure has been requested": a_closure,
                "one customer is registered at the monolith behind billing": (
                    a_customer_at_the_monolith
                ),
            },
        )


async def add_customer(database_url: str, customer_id: str, email: str) -> None:
    """The customer billing's registration consumer adds from a UserRegistered event, added
    by the same service-layer call (which leaves a known customer as it is)."""
    engine = create_engine(database_url)
    billing = bootstrap(
        BillingSettings(
            jwt_secret=JWT_SECRET, operator_token=OPERATOR_TOKEN, database_url=database_url
        ),
        create_session_factory(engine),
    )
    try:
        await billing.add_customer(
            AddCustomer(customer_id, email, "Ada", datetime.now(UTC), "legacy-monolith")
        )
    finally:
        await billing.aclose()
        await engine.dispose()


async def request_closure(database_url: str, closure_id: str, user_id: str) -> None:
    """A user's AccountClosureRequested as billing's choreography observer keeps it: the same
    call on the log, in billing's composition root (each setup one more event of it)."""
    process = bootstrap_process(
        BillingSettings(
            jwt_secret=JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            database_url=database_url,
            legacy_sync_enabled=False,
        )
    )
    seen = SeenEvent(
        correlation_id=closure_id,
        event_id=str(uuid.uuid4()),
        name=AccountClosureRequested.name,
        source="legacy-monolith",
        subject=user_id,
        occurred_at=datetime.now(UTC),
        data={"closure_id": closure_id, "user_id": user_id},
    )
    try:
        async with process.sessions() as session, session.begin():
            [closure] = process.choreographies.definitions
            await process.choreography_log.record(session, closure, seen)
    finally:
        await process.aclose()
