"""Auth's events honour every consumer's message pact (billing's and notifications'
UserRegistered, the monolith's UserAccountChanged), produced by their real path: a
registration at the real auth process, the outbox row committed with it, handed over as the
relay puts it on the wire."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from pact.types import Message

from tests.contracts.verification import outbox_payload, provider_process, verify

USER_REGISTERED = "dev.strangler-fig.accounts.user-registered.v1"
USER_ACCOUNT_CHANGED = "dev.strangler-fig.accounts.user-account-changed.v1"


def test_auth_produces_what_its_consumers_read(tmp_path: Path) -> None:
    database = tmp_path / "auth.db"
    settings = {
        "AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "AUTH_OPERATOR_TOKEN": "contract-operator-token-0123456789",
        # The row stays in the outbox: the test reads what the relay would send.
        "AUTH_OUTBOX_RELAY_ENABLED": "false",
        "AUTH_LEGACY_SYNC_ENABLED": "false",
    }
    with provider_process("auth", "auth-service", settings, tmp_path, prepare=True) as auth:

        def registered(event_type: str) -> Message:
            # A new user each time: several consumers' pacts ask for a registration.
            email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
            httpx.post(
                f"{auth.url}/api/users",
                json={"email": email, "password": "a-long-password-1", "name": "Ada"},
                timeout=60,
            ).raise_for_status()
            return Message(
                contents=json.dumps(outbox_payload(database, event_type)).encode(),
                metadata=None,
                content_type="application/json",
            )

        def a_registration(**_: Any) -> Message:
            return registered(USER_REGISTERED)

        def an_account_registered(**_: Any) -> Message:
            return registered(USER_ACCOUNT_CHANGED)

        verification = verify(
            "auth-events",
            None,
            messages={
                "a UserRegistered event": a_registration,
                "a UserAccountChanged event": an_account_registered,
            },
            states={"a user registers at auth": lambda: None},
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 2
