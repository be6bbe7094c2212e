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
    ACCOUNT_CLOSED,
    answer_in_outbox,
    answered,
    as_message,
    broker,
    closing,
)
from tests.contracts.verification import outbox_payload, provider_process, verify

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
        provider_process(
            "legacy-monolith",
            "legacy-monolith",
            {**settings, "MONOLITH_KAFKA_BOOTSTRAP_SERVERS": events.bootstrap_servers},
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

        def a_name_change(**_: Any) -> Message:
            changed = client.patch("/api/users/me", json={"name": "Ada L."}, headers=signed_in())
            assert changed.status_code == 200, changed.text
            return newest("dev.strangler-fig.accounts.user-profile-changed.v1")

        def a_closure_request(**_: Any) -> Message:
            return as_message(closing(monolith.url, signed_in(), database))

        def an_account_closed(**_: Any) -> Message:
            requested = closing(monolith.url, signed_in(), database)
            answered(events, requested)
            closure_id = requested["data"]["closure_id"]
            return as_message(
                answer_in_outbox(database, ACCOUNT_CLOSED, lambda d: d["closure_id"] == closure_id)
            )

        verification = verify(
            "legacy-monolith-events",
            None,
            messages={
                "a UserRegistered event": a_registration,
                "a UserAccountChanged event": an_account_registered,
                "a PasswordChanged event": a_password_change,
                "an InvoiceIssued event": a_subscription,
                "a UserProfileChanged event": a_name_change,
                "an AccountClosureRequested event": a_closure_request,
                "an AccountClosed event": an_account_closed,
            },
            states={
                "a user registers at the monolith": lambda: None,
                "a user changes their password at the monolith": lambda: None,
                "a customer subscribes to a plan at the monolith": lambda: None,
                "a user changes their name at the monolith": lambda: None,
                "a user closes their account at the monolith": lambda: None,
                "a user's account is closed at the monolith": lambda: None,
            },
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 5
