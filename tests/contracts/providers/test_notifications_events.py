"""Notifications' events honour every consumer's message pact (the monolith's
anti-corruption layer), produced by their real path: a user chooses their e-mails through
``PUT /api/notifications/preferences`` at the real notifications process, and the outbox row
committed with the choice is handed over as the relay puts it on the wire."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from legacy_monolith.security import TokenIssuer
from pact.types import Message

from tests.contracts.verification import outbox_payload, provider_process, verify

JWT_SECRET = "contract-jwt-secret-0123456789abcdef"
PREFERENCES_CHANGED = "dev.strangler-fig.notifications.preferences-changed.v1"


def test_notifications_produces_what_its_consumers_read(tmp_path: Path) -> None:
    database = tmp_path / "notifications.db"
    settings = {
        "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "NOTIFICATIONS_JWT_SECRET": JWT_SECRET,
        "NOTIFICATIONS_OPERATOR_TOKEN": "contract-operator-token-0123456789",
        # The row stays in the outbox: the test reads what the relay would send.
        "NOTIFICATIONS_OUTBOX_RELAY_ENABLED": "false",
        "NOTIFICATIONS_CONSUMER_ENABLED": "false",
        "NOTIFICATIONS_LEGACY_SYNC_ENABLED": "false",
        "NOTIFICATIONS_SENDER_ENABLED": "false",
    }
    with provider_process(
        "notifications", "notifications-service", settings, tmp_path, prepare=True
    ) as notifications:

        def a_choice_of_emails(**_: Any) -> Message:
            user = str(uuid.uuid4())
            token = TokenIssuer(JWT_SECRET, "legacy-monolith", 3600).issue(
                user, f"ada-{user[:8]}@example.com"
            )
            chosen = httpx.put(
                f"{notifications.url}/api/notifications/preferences",
                json={"account_emails": True, "billing_emails": False},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            assert chosen.status_code == 200, chosen.text
            return Message(
                contents=json.dumps(outbox_payload(database, PREFERENCES_CHANGED)).encode(),
                metadata=None,
                content_type="application/json",
            )

        verification = verify(
            "notifications-events",
            None,
            messages={"a NotificationPreferencesChanged event": a_choice_of_emails},
            states={"a user chooses their e-mails at notifications": lambda: None},
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 1
