"""Billing's events honour every consumer's message pact (the monolith's anti-corruption
layer, notifications), produced by their real path: a customer subscribes through
``POST /api/billing/subscriptions`` at the real billing process, and the outbox rows that
request committed are handed over as the relay puts them on the wire."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from legacy_monolith.security import TokenIssuer
from pact.types import Message

from tests.contracts.providers.test_billing import JWT_SECRET, OPERATOR_TOKEN, add_customer
from tests.contracts.verification import outbox_payload, provider_process, verify


def test_billing_produces_what_its_consumers_read(tmp_path: Path) -> None:
    database = tmp_path / "billing.db"
    database_url = f"sqlite+aiosqlite:///{database}"
    settings = {
        "BILLING_DATABASE_URL": database_url,
        "BILLING_JWT_SECRET": JWT_SECRET,
        "BILLING_OPERATOR_TOKEN": OPERATOR_TOKEN,
        # The rows stay in the outbox: the test reads what the relay would send.
        "BILLING_OUTBOX_RELAY_ENABLED": "false",
        "BILLING_REGISTRATIONS_ENABLED": "false",
        "BILLING_LEGACY_SYNC_ENABLED": "false",
        "BILLING_SAGAS_ENABLED": "false",
    }
    with provider_process(
        "billing", "billing-service", settings, tmp_path, prepare=True
    ) as billing:

        def subscribed(event_type: str) -> Message:
            # A new customer each time: a customer holds one subscription at a time.
            customer = str(uuid.uuid4())
            email = f"ada-{customer[:8]}@example.com"
            asyncio.run(add_customer(database_url, customer, email))
            token = TokenIssuer(JWT_SECRET, "legacy-monolith", 3600).issue(customer, email)
            answer = httpx.post(
                f"{billing.url}/api/billing/subscriptions",
                json={"plan_id": "pro"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            assert answer.status_code == 201, answer.text
            return Message(
                contents=json.dumps(outbox_payload(database, event_type)).encode(),
                metadata=None,
                content_type="application/json",
            )

        def a_subscription_started(**_: Any) -> Message:
            return subscribed("dev.strangler-fig.billing.subscription-started.v1")

        def an_invoice_issued(**_: Any) -> Message:
            return subscribed("dev.strangler-fig.billing.invoice-issued.v1")

        verification = verify(
            "billing-events",
            None,
            messages={
                "a SubscriptionStarted event": a_subscription_started,
                "an InvoiceIssued event": an_invoice_issued,
            },
            states={"a customer subscribes to a plan at billing": lambda: None},
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 3
