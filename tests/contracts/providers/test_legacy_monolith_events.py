"""The monolith's events honour every consumer's message pact: each message is produced by
its real path — a request to the real monolith process, the domain change it makes, the
outbox row committed with it — and handed over exactly as the relay puts it on the wire
(the row's payload: the CloudEvent in JSON structured mode)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from pact.types import Message

from tests.contracts.verification import outbox_payload, provider_process, verify

OPERATOR_TOKEN = "contract-operator-token-0123456789"


def test_the_monolith_produces_what_its_consumers_read(tmp_path: Path) -> None:
    database = tmp_path / "monolith.db"
    settings = {
        "MONOLITH_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "MONOLITH_JWT_SECRET": "contract-jwt-secret-0123456789abcdef",
        "MONOLITH_OPERATOR_TOKEN": OPERATOR_TOKEN,
        # The row stays in the outbox: the test reads what the relay would send.
        "MONOLITH_OUTBOX_RELAY_ENABLED": "false",
    }
    with provider_process(
        "legacy-monolith", "legacy-monolith", settings, tmp_path, prepare=True
    ) as monolith:

        def a_registration(**_: Any) -> Message:
            httpx.post(
                f"{monolith.url}/api/users",
                json={"email": "ada@example.com", "password": "a-long-password-1", "name": "Ada"},
                timeout=30,
            ).raise_for_status()
            event = outbox_payload(database, "dev.strangler-fig.accounts.user-registered.v1")
            return Message(
                contents=json.dumps(event).encode(),
                metadata=None,
                content_type="application/json",
            )

        verification = verify(
            "legacy-monolith-events",
            None,
            messages={"a UserRegistered event": a_registration},
            states={"a user registers at the monolith": lambda: None},
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 1
