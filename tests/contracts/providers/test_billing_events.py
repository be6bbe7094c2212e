"""Billing's events honour every consumer's message pact (the monolith's anti-corruption
layer, notifications), produced by their real path: a customer subscribes through
``POST /api/billing/subscriptions`` at the real billing process (and pays the invoice, and
has it refunded, at a real payment simulator), and the outbox rows those requests committed
are handed over as the relay puts them on the wire."""

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
    with (
        provider_process("payment-simulator", "payment-simulator", {}, tmp_path) as simulator,
        provider_process(
            "billing",
            "billing-service",
            {**settings, "BILLING_PAYMENT_PROVIDER_URL": simulator.url},
            tmp_path,
            prepare=True,
        ) as billing,
        httpx.Client(base_url=billing.url, timeout=60) as client,
    ):

        def subscribed() -> tuple[dict[str, str], str]:
            """A new customer (a customer holds one subscription at a time), subscribed: their
            bearer and the first invoice's id."""
            customer = str(uuid.uuid4())
            email = f"ada-{customer[:8]}@example.com"
            asyncio.run(add_customer(database_url, customer, email))
            token = TokenIssuer(JWT_SECRET, "legacy-monolith", 3600).issue(customer, email)
            bearer = {"Authorization": f"Bearer {token}"}
            answer = client.post(
                "/api/billing/subscriptions", json={"plan_id": "pro"}, headers=bearer
            )
            assert answer.status_code == 201, answer.text
            return bearer, answer.json()["invoice"]["id"]

        def paid() -> tuple[dict[str, str], str]:
            bearer, invoice = subscribed()
            answer = client.post(
                f"/api/billing/invoices/{invoice}/pay",
                json={"card_number": "4242424242424242"},
                headers={**bearer, "Idempotency-Key": f"pay-{invoice}"},
            )
            assert answer.status_code == 201, answer.text
            return bearer, invoice

        def newest(event_type: str) -> Message:
            return Message(
                contents=json.dumps(outbox_payload(database, event_type)).encode(),
                metadata=None,
                content_type="application/json",
            )

        def a_subscription_started(**_: Any) -> Message:
            subscribed()
            return newest("dev.strangler-fig.billing.subscription-started.v1")

        def an_invoice_issued(**_: Any) -> Message:
            subscribed()
            return newest("dev.strangler-fig.billing.invoice-issued.v1")

        def a_payment(**_: Any) -> Message:
            paid()
            return newest("dev.strangler-fig.billing.payment-succeeded.v1")

        def a_refund(**_: Any) -> Message:
            bearer, invoice = paid()
            answer = client.post(
                f"/api/billing/invoices/{invoice}/refund",
                json={},
                headers={**bearer, "Idempotency-Key": f"refund-{invoice}"},
            )
            assert answer.status_code == 201, answer.text
            return newest("dev.strangler-fig.billing.refund-issued.v1")

        verification = verify(
            "billing-events",
            None,
            messages={
                "a SubscriptionStarted event": a_subscription_started,
                "an InvoiceIssued event": an_invoice_issued,
                "a PaymentSucceeded event": a_payment,
                "a RefundIssued event": a_refund,
            },
            states={
                "a customer subscribes to a plan at billing": lambda: None,
                "a customer pays an invoice at billing": lambda: None,
                "a customer's paid invoice is refunded at billing": lambda: None,
            },
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 5
