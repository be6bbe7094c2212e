"""Auth honours every pact that names it: the token verifiers' (its JWKS) and the
``strangler`` command's (its signing keys, its users as ``strangler migrate auth`` reads them,
and the backfill's step).

The provider is the real ``auth-service`` process on SQLite, no broker (relay, sync and
closures off); behind it runs a real monolith, whose export the backfill reads. The user the
records' state needs registers at auth through its own API; the records the requests name
are those auth's export answers first.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.contracts.providers.monolith_state import (
    OPERATOR_TOKEN,
    first_record_ids,
    monolith_process,
    register_customer,
)
from tests.contracts.verification import Verification, provider_process, verify


def test_auth_honours_its_consumers(tmp_path: Path) -> None:
    with monolith_process(tmp_path) as monolith:
        verification = _verify_auth(tmp_path, monolith.url)
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 9


def _verify_auth(tmp_path: Path, monolith_url: str) -> Verification:
    """Auth pointed at the monolith at ``monolith_url``, every pact naming it replayed."""
    settings = {
        "AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}",
        "AUTH_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "AUTH_MONOLITH_URL": monolith_url,
        "AUTH_OUTBOX_RELAY_ENABLED": "false",
        "AUTH_LEGACY_SYNC_ENABLED": "false",
        "AUTH_ACCOUNT_CLOSURE_ENABLED": "false",
    }
    operator = {"operator_token": OPERATOR_TOKEN}
    with provider_process("auth", "auth-service", settings, tmp_path, prepare=True) as auth:

        def one_user() -> dict[str, object]:
            # Registered at auth as a person would; from the second time on it is there.
            registered = httpx.post(
                f"{auth.url}/api/users",
                json={"email": "ada@example.com", "password": "a-long-password-1", "name": "Ada"},
                timeout=60,
            )
            assert registered.status_code in (201, 409), registered.text
            return {**operator, **first_record_ids(auth.url, {"auth": ["users"]})}

        def a_customer_at_the_monolith() -> dict[str, object]:
            register_customer(monolith_url)
            return operator

        return verify(
            "auth",
            auth.url,
            states={
                # `auth-service prepare` made the first signing key: it holds from the start.
                "auth has a signing key": lambda: operator,
                "one user is known to auth": one_user,
                "one customer is registered at the monolith behind auth": (
                    a_customer_at_the_monolith
                ),
            },
        )
