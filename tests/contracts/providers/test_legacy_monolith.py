"""The monolith honours every pact that names it: the backfills of billing, auth and
notifications (its exports) and the ``strangler`` command's (its data-migration counts)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.contracts.verification import provider_process, verify

OPERATOR_TOKEN = "contract-operator-token-0123456789"


def test_the_monolith_honours_its_consumers(tmp_path: Path) -> None:
    settings = {
        "MONOLITH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'monolith.db'}",
        "MONOLITH_JWT_SECRET": "contract-jwt-secret-0123456789abcdef",
        "MONOLITH_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "MONOLITH_OUTBOX_RELAY_ENABLED": "false",
    }
    with provider_process(
        "legacy-monolith", "legacy-monolith", settings, tmp_path, prepare=True
    ) as monolith:

        def one_customer() -> None:
            # Registered through the monolith's own API, as a customer would; set up before
            # each interaction, so the second time the account is already there (409).
            registered = httpx.post(
                f"{monolith.url}/api/users",
                json={"email": "ada@example.com", "password": "a-long-password-1", "name": "Ada"},
                timeout=30,
            )
            assert registered.status_code in (201, 409), registered.text

        verification = verify(
            "legacy-monolith",
            monolith.url,
            states={"one customer is registered at the monolith": one_customer},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 4
