"""The monolith's events honour every consumer's message pact: each message is produced by
its real path — requests to the real monolith process, the domain change they make, the
outbox row committed with it — and handed over exactly as the relay puts it on the wire
(the row's payload: the CloudEvent in JSON structured mode). An account's ``AccountClosed``
comes once billing's and notifications' answers to its closure reached the monolith's
closure consumer over a real broker, as those two publish them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from pact.types import Message

from tests.contracts.providers.event_triggers import (
    account_closed,
    as_message,
    broker,
    closing,
    smtp_sink,
)
from tests.contracts.verification import outbox_payload, provider_process, verify
from tests.support.service_process import HOST

OPERATOR_TOKEN = "contract-operator-token-0123456789"
PASSWORD = "a-long-password-1"


def test_the_monolith_produces_what_its_consumers_read(tmp_path: Path) -> None:
    database = tmp_path / "monolith.db"
    settings = {
        "MONOLITH_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "MONOLITH_JWT_SECRET": "contract-jwt-secret-0123456789abcdef",
        "MONOLITH_OPERATOR_TOKEN": OPERATOR_TOKEN,
        # The row stays in the outbox: the test reads what the relay would send.
        "MONOLITH_OUTBOX_RELAY_ENABLED": "false",
        # Its consumer of the answers to a closure.
        "MONOLITH_ACCOUNT_CLOSURE_ENABLED": "true",
        "MONOLITH_ACCOUNT_CLOSURE_GROUP": f"monolith-contract-{uuid.uuid4().hex[:8]}",
    }
    with (
        broker() as events,
        smtp_sink(tmp_path) as (smtp_port, _),
        provider_process("payment-simulator", "payment-simulator", {}, tmp_path) as simulator,
        provider_process(
            "legacy-monolith",
            "legacy-monolith",
            {
                **settings,
                "MONOLITH_KAFKA_BOOTSTRAP_SERVERS": events.bootstrap_servers,
                "MONOLITH_PAYMENT_PROVIDER_URL": simulator.url,
                # It sends its mails itself (no mail flag), to a real SMTP sink.
                "MONOLITH_SMTP_HOST": HOST,
                "MONOLITH_SMTP_PORT": str(smtp_port),
            },
            tmp_path,
            prepare=True,
        ) as monolith,
        httpx.Client(base_url=monolith.url, timeout=60) as client,
    ):

        def signed_in() -> dict[str, str]:
            """A new user (each call: several pacts ask for a registration), signed in."""
            email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
            client.post(
                "/api/users", json={"email": email, "password": PASSWORD, "name": "Ada"}
            ).raise_for_status()
            login = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
            login.raise_for_status()
            return {"Authorization": f"Bearer {login.json()['access_token']}"}

        def newest(event_type: str) -> Message:
            return Message(
                contents=json.dumps(outbox_payload(database, event_type)).encode(),
                metadata=None,
                content_type="application/json",
            )

        def a_registration(**_: Any) -> Message:
            signed_in()
            return newest("dev.strangler-fig.accounts.user-registered.v1")

        def an_account_registered(**_: Any) -> Message:
            signed_in()
            return newest("dev.strangler-fig.accounts.user-account-changed.v1")

        def a_password_change(**_: Any) -> Message:
            changed = client.post(
                "/api/users/me/password",
                json={"current_password": PASSWORD, "new_password": "another-long-password-2"},
                headers=signed_in(),
            )
            assert changed.status_code == 204, changed.text
            return newest("dev.strangler-fig.accounts.password-changed.v1")

        def a_subscription(**_: Any) -> Message:
            subscribed = client.post(
                "/api/billing/subscriptions", json={"plan_id": "pro"}, headers=signed_in()
            )
            assert subscribed.status_code == 201, subscribed.text
            return newest("dev.strangler-fig.billing.invoice-issued.v1")

        def subscribed() -> tuple[dict[str, str], dict[str, Any]]:
            """A new customer, subscribed: their bearer and the subscription's answer."""
            bearer = signed_in()
            answer = client.post(
                "/api/billing/subscriptions", json={"plan_id": "pro"}, headers=bearer
            )
            assert answer.status_code == 201, answer.text
            return bearer, answer.json()

        def paid(card: str) -> tuple[dict[str, str], str, int]:
            bearer, subscription = subscribed()
            invoice = subscription["invoice"]["id"]
            answer = client.post(
                f"/api/billing/invoices/{invoice}/pay",
                json={"card_number": card},
                headers={**bearer, "Idempotency-Key": f"pay-{invoice}"},
            )
            return bearer, invoice, answer.status_code

        def a_subscription_started(**_: Any) -> Message:
            subscribed()
            return newest("dev.strangler-fig.billing.subscription-started.v1")

        def a_payment(**_: Any) -> Message:
            status = paid("4242424242424242")[2]
            assert status == 201
            return newest("dev.strangler-fig.billing.payment-succeeded.v1")

        def a_declined_payment(**_: Any) -> Message:
            status = paid("4000000000000002")[2]
            assert status == 402
            return newest("dev.strangler-fig.billing.payment-failed.v1")

        def a_refund(**_: Any) -> Message:
            bearer, invoice, status = paid("4242424242424242")
            assert status == 201
            refunded = client.post(
                f"/api/billing/invoices/{invoice}/refund",
                json={},
                headers={**bearer, "Idempotency-Key": f"refund-{invoice}"},
            )
            assert refunded.status_code == 201, refunded.text
            return newest("dev.strangler-fig.billing.refund-issued.v1")

        def a_cancellation(**_: Any) -> Message:
            bearer, subscription = subscribed()
            cancelled = client.post(
                f"/api/billing/subscriptions/{subscription['subscription']['id']}/cancel",
                headers=bearer,
            )
            assert cancelled.status_code == 200, cancelled.text
            return newest("dev.strangler-fig.billing.subscription-cancelled.v1")

        def a_mail_sent(**_: Any) -> Message:
            signed_in()  # the welcome, sent inline
            sent = outbox_payload(database, "dev.strangler-fig.notifications.notification-sent.v1")
            assert sent["data"]["status"] == "sent", sent  # the SMTP sink took it
            return as_message(sent)

        def a_choice_of_emails(**_: Any) -> Message:
            chosen = client.put(
                "/api/notifications/preferences",
                json={"account_emails": True, "billing_emails": False},
                headers=signed_in(),
            )
            assert chosen.status_code == 200, chosen.text
            return newest("dev.strangler-fig.notifications.preferences-changed.v1")

        def a_name_change(**_: Any) -> Message:
            changed = client.patch("/api/users/me", json={"name": "Ada L."}, headers=signed_in())
            assert changed.status_code == 200, changed.text
            return newest("dev.strangler-fig.accounts.user-profile-changed.v1")

        def a_closure_request(**_: Any) -> Message:
            return as_message(closing(monolith.url, signed_in(), database))

        def an_account_closed(**_: Any) -> Message:
            return account_closed(events, monolith.url, signed_in(), database)

        verification = verify(
            "legacy-monolith-events",
            None,
            messages={
                "a UserRegistered event": a_registration,
                "a UserAccountChanged event": an_account_registered,
                "a PasswordChanged event": a_password_change,
                "an InvoiceIssued event": a_subscription,
                "a SubscriptionStarted event": a_subscription_started,
                "a PaymentSucceeded event": a_payment,
                "a PaymentFailed event": a_declined_payment,
                "a RefundIssued event": a_refund,
                "a SubscriptionCancelled event": a_cancellation,
                "a NotificationSent event": a_mail_sent,
                "a NotificationPreferencesChanged event": a_choice_of_emails,
                "a UserProfileChanged event": a_name_change,
                "an AccountClosureRequested event": a_closure_request,
                "an AccountClosed event": an_account_closed,
            },
            states={
                "a user registers at the monolith": lambda: None,
                "a user changes their password at the monolith": lambda: None,
                "a customer subscribes to a plan at the monolith": lambda: None,
                "a customer pays an invoice at the monolith": lambda: None,
                "a customer's card is declined at the monolith": lambda: None,
                "a customer's paid invoice is refunded at the monolith": lambda: None,
                "a customer cancels an unpaid subscription at the monolith": lambda: None,
                "a mail to a user is sent at the monolith": lambda: None,
                "a user chooses their e-mails at the monolith": lambda: None,
                "a user changes their name at the monolith": lambda: None,
                "a user closes their account at the monolith": lambda: None,
                "a user's account is closed at the monolith": lambda: None,
            },
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 5
