"""Auth honours every pact that names it: the token verifiers' (its JWKS)."""

from __future__ import annotations

from pathlib import Path

from tests.contracts.verification import provider_process, verify


def test_auth_honours_its_consumers(tmp_path: Path) -> None:
    settings = {
        "AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}",
        "AUTH_OPERATOR_TOKEN": "contract-operator-token-0123456789",
    }
    with provider_process("auth", "auth-service", settings, tmp_path, prepare=True) as auth:
        # `auth-service prepare` made the first signing key: the state holds from the start.
        verification = verify("auth", auth.url, states={"auth has a signing key": lambda: None})
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 1
