"""Billing's events honour every consumer's message pact (the monolith's anti-corruption
layer, notifications), produced by their real path: a customer subscribes through
``POST /api/billing/subscriptions`` at the real billing process (and pays the invoice, and
has it refunded, at a real payment simulator; or cancels it unpaid; or checks out through
``POST /api/billing/checkout``, billing's saga activating the subscription), and the outbox
rows those requests committed are handed over as the relay puts them on the wire. Billing's
answers to an account closure (the accounts sides', notifications') come from its real part
in one: a paying customer's ``AccountClosureRequested`` given to the billing process over a
real broker, its consumer starting the closure saga, which cancels and refunds at the payment
simulator — or meets the simulator's card whose refunds are declined — and commits its
outcome."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from legacy_monolith.security import TokenIssuer
from pact.types import Message
from strangler_contracts import AccountClosureRequested

from tests.contracts.providers.event_triggers import answer_in_outbox, as_message, broker, publish
from tests.contracts.providers.test_billing import JWT_SECRET, OPERATOR_TOKEN, add_customer
from tests.contracts.verification import outbox_payload, provider_process, verify

APPROVED = "4242424242424242"
DECLINED = "4000000000000002"
REFUNDS_DECLINED = "4000000000005126"  # the payment simulator approves it, declines refunds


def test_billing_produces_what_its_consumers_read(tmp_path: Path) -> None:
    database = tmp_path / "billing.db"
    database_url = f"sqlite+aiosqlite:///{database}"
    settings = {
        "BILLING_DATABASE_URL": database_url,
        "BILLING_JWT_SECRET": JWT_SECRET,
        "BILLING_OPERATOR_TOKEN": OPERATOR_TOKEN,
        # The rows stay in the outbox: the test reads what the relay would send.
        "BILLING_OUTBOX_RELAY_ENABLED": "false",
        "BILLING_LEGACY_SYNC_ENABLED": "false",
        # Its consumer of strangler.accounts and its sagas: its part in closing an account.
        "BILLING_REGISTRATIONS_ENABLED": "true",
        "BILLING_CONSUMER_GROUP": f"billing-contract-{uuid.uuid4().hex[:8]}",
        "BILLING_SAGAS_ENABLED": "true",
        "BILLING_SAGA_POLL_SECONDS": "0.2",
    }
    with (
        broker() as events,
        provider_process("payment-simulator", "payment-simulator", {}, tmp_path) as simulator,
        provider_process(
            "billing",
            "billing-service",
            {
                **settings,
                "BILLING_PAYMENT_PROVIDER_URL": simulator.url,
                "BILLING_KAFKA_BOOTSTRAP_SERVERS": events.bootstrap_servers,
            },
            tmp_path,
            prepare=True,
        ) as billing,
        httpx.Client(base_url=billing.url, timeout=60) as client,
    ):

        def subscribed(customer: str | None = None) -> tuple[dict[str, str], str]:
            """A new customer (a customer holds one subscription at a time), subscribed: their
            bearer and the first invoice's id."""
            customer = customer or str(uuid.uuid4())
            email = f"ada-{customer[:8]}@example.com"
            asyncio.run(add_customer(database_url, customer, email))
            token = TokenIssuer(JWT_SECRET, "legacy-monolith", 3600).issue(customer, email)
            bearer = {"Authorization": f"Bearer {token}"}
            answer = client.post(
                "/api/billing/subscriptions", json={"plan_id": "pro"}, headers=bearer
            )
            assert answer.status_code == 201, answer.text
            return bearer, answer.json()["invoice"]["id"]

        def paid(
            card: str = "4242424242424242", customer: str | None = None
        ) -> tuple[dict[str, str], str]:
            bearer, invoice = subscribed(customer)
            answer = client.post(
                f"/api/billing/invoices/{invoice}/pay",
                json={"card_number": card},
                headers={**bearer, "Idempotency-Key": f"pay-{invoice}"},
            )
            assert answer.status_code == 201, answer.text
            return bearer, invoice

        def closing(card: str, answer_type: str) -> Message:
            """A customer who paid with ``card`` closes their account (as the accounts side
            asks, over the broker); billing's answer, once its closure saga committed it."""
            customer, closure_id = str(uuid.uuid4()), str(uuid.uuid4())
            paid(card, customer)
            request = AccountClosureRequested(
                closure_id=closure_id,
                user_id=customer,
                email=f"ada-{customer[:8]}@example.com",
                display_name="Ada",
                requested_at=datetime.now(UTC),
            )
            publish(events, request, "/legacy-monolith", correlation_id=closure_id)
            return as_message(
                answer_in_outbox(database, answer_type, lambda d: d["closure_id"] == closure_id)
            )

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

        def a_declined_payment(**_: Any) -> Message:
            bearer, invoice = subscribed()
            answer = client.post(
                f"/api/billing/invoices/{invoice}/pay",
                json={"card_number": DECLINED},
                headers={**bearer, "Idempotency-Key": f"pay-{invoice}"},
            )
            assert answer.status_code == 402, answer.text
            return newest("dev.strangler-fig.billing.payment-failed.v1")

        def a_checkout(**_: Any) -> Message:
            customer = str(uuid.uuid4())
            email = f"ada-{customer[:8]}@example.com"
            asyncio.run(add_customer(database_url, customer, email))
            token = TokenIssuer(JWT_SECRET, "legacy-monolith", 3600).issue(customer, email)
            started = client.post(
                "/api/billing/checkout",
                json={"plan_id": "pro", "card_number": APPROVED},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": customer},
            )
            assert started.status_code == 202, started.text
            return as_message(
                answer_in_outbox(
                    database,
                    "dev.strangler-fig.billing.subscription-activated.v1",
                    lambda d: d["user_id"] == customer,
                )
            )

        def a_cancellation(**_: Any) -> Message:
            bearer, invoice = subscribed()
            subscription = client.get(f"/api/billing/invoices/{invoice}", headers=bearer)
            assert subscription.status_code == 200, subscription.text
            cancelled = client.post(
                f"/api/billing/subscriptions/{subscription.json()['subscription_id']}/cancel",
                headers=bearer,
            )
            assert cancelled.status_code == 200, cancelled.text
            return newest("dev.strangler-fig.billing.subscription-cancelled.v1")

        def a_refund(**_: Any) -> Message:
            bearer, invoice = paid()
            answer = client.post(
                f"/api/billing/invoices/{invoice}/refund",
                json={},
                headers={**bearer, "Idempotency-Key": f"refund-{invoice}"},
            )
            assert answer.status_code == 201, answer.text
            return newest("dev.strangler-fig.billing.refund-issued.v1")

        def closed_for_the_account(**_: Any) -> Message:
            return closing(APPROVED, "dev.strangler-fig.billing.billing-closed-for-account.v1")

        def closure_refund_declined(**_: Any) -> Message:
            return closing(
                REFUNDS_DECLINED, "dev.strangler-fig.billing.account-closure-refund-declined.v1"
            )

        verification = verify(
            "billing-events",
            None,
            messages={
                "a SubscriptionStarted event": a_subscription_started,
                "an InvoiceIssued event": an_invoice_issued,
                "a PaymentSucceeded event": a_payment,
                "a PaymentFailed event": a_declined_payment,
                "a SubscriptionActivated event": a_checkout,
                "a SubscriptionCancelled event": a_cancellation,
                "a RefundIssued event": a_refund,
                "a BillingClosedForAccount event": closed_for_the_account,
                "an AccountClosureRefundDeclined event": closure_refund_declined,
            },
            states={
                "a customer subscribes to a plan at billing": lambda: None,
                "a customer pays an invoice at billing": lambda: None,
                "a customer's card is declined at billing": lambda: None,
                "a customer checks out at billing": lambda: None,
                "a customer cancels an unpaid subscription at billing": lambda: None,
                "a customer's paid invoice is refunded at billing": lambda: None,
                "a paying customer closes their account at billing": lambda: None,
                "a customer whose card refuses refunds closes their account at billing": (
                    lambda: None
                ),
            },
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 5
