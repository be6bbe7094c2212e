"""Auth's events honour every consumer's message pact (billing's and notifications'
UserRegistered and PasswordChanged, the monolith's UserAccountChanged), produced by their
real path: a registration (and a password change) at the real auth process, the outbox row
committed with it, handed over as the relay puts it on the wire. A name changed and an
account closed too (billing's UserProfileChanged, AccountClosureRequested and AccountClosed):
the last once billing's and notifications' answers to the closure reached auth's closure
consumer over a real broker, as those two publish them."""

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
)
from tests.contracts.verification import outbox_payload, provider_process, verify

USER_REGISTERED = "dev.strangler-fig.accounts.user-registered.v1"
USER_ACCOUNT_CHANGED = "dev.strangler-fig.accounts.user-account-changed.v1"
PASSWORD = "a-long-password-1"


def test_auth_produces_what_its_consumers_read(tmp_path: Path) -> None:
    database = tmp_path / "auth.db"
    settings = {
        "AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "AUTH_OPERATOR_TOKEN": "contract-operator-token-0123456789",
        # The row stays in the outbox: the test reads what the relay would send.
        "AUTH_OUTBOX_RELAY_ENABLED": "false",
        "AUTH_LEGACY_SYNC_ENABLED": "false",
        # Its consumer of the answers to a closure.
        "AUTH_ACCOUNT_CLOSURE_ENABLED": "true",
        "AUTH_ACCOUNT_CLOSURE_GROUP": f"auth-contract-{uuid.uuid4().hex[:8]}",
    }
    with (
        broker() as events,
        provider_process(
            "auth",
            "auth-service",
            {**settings, "AUTH_KAFKA_BOOTSTRAP_SERVERS": events.bootstrap_servers},
            tmp_path,
            prepare=True,
        ) as auth,
    ):

        def registered(event_type: str) -> Message:
            register()
            return newest(event_type)

        def register() -> str:
            # A new user each time: several consumers' pacts ask for a registration.
            email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
            httpx.post(
                f"{auth.url}/api/users",
                json={"email": email, "password": PASSWORD, "name": "Ada"},
                timeout=60,
            ).raise_for_status()
            return email

        def signed_in() -> dict[str, str]:
            login = httpx.post(
                f"{auth.url}/api/auth/login",
                json={"email": register(), "password": PASSWORD},
                timeout=60,
            )
            login.raise_for_status()
            return {"Authorization": f"Bearer {login.json()['access_token']}"}

        def a_password_change(**_: Any) -> Message:
            changed = httpx.post(
                f"{auth.url}/api/users/me/password",
                json={"current_password": PASSWORD, "new_password": "another-long-password-2"},
                headers=signed_in(),
                timeout=60,
            )
            assert changed.status_code == 204, changed.text
            return newest("dev.strangler-fig.accounts.password-changed.v1")

        def newest(event_type: str) -> Message:
            return Message(
                contents=json.dumps(outbox_payload(database, event_type)).encode(),
                metadata=None,
                content_type="application/json",
            )

        def a_registration(**_: Any) -> Message:
            return registered(USER_REGISTERED)

        def an_account_registered(**_: Any) -> Message:
            return registered(USER_ACCOUNT_CHANGED)

        def a_name_change(**_: Any) -> Message:
            changed = httpx.patch(
                f"{auth.url}/api/users/me", json={"name": "Ada L."}, headers=signed_in(), timeout=60
            )
            assert changed.status_code == 200, changed.text
            return newest("dev.strangler-fig.accounts.user-profile-changed.v1")

        def a_closure_request(**_: Any) -> Message:
            return as_message(closing(auth.url, signed_in(), database))

        def an_account_closed(**_: Any) -> Message:
            return account_closed(events, auth.url, signed_in(), database)

        verification = verify(
            "auth-events",
            None,
            messages={
                "a UserRegistered event": a_registration,
                "a UserAccountChanged event": an_account_registered,
                "a PasswordChanged event": a_password_change,
                "a UserProfileChanged event": a_name_change,
                "an AccountClosureRequested event": a_closure_request,
                "an AccountClosed event": an_account_closed,
            },
            states={
                "a user registers at auth": lambda: None,
                "a user changes their password at auth": lambda: None,
                "a user changes their name at auth": lambda: None,
                "a user closes their account at auth": lambda: None,
                "a user's account is closed at auth": lambda: None,
            },
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 3
