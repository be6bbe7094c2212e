"""Billing trusts the bearer tokens the monolith issues, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from billing_service.entrypoints.identity import InvalidToken, TokenVerifier
from legacy_monolith.security import TokenIssuer

SECRET = "a-shared-secret-with-at-least-32-bytes"


def test_a_token_the_monolith_issued_names_the_user_as_the_customer() -> None:
    token = TokenIssuer(SECRET, "legacy-monolith", 3600).issue("user-1", "erin@example.com")

    assert TokenVerifier(SECRET, "legacy-monolith").user_id(token) == "user-1"


@pytest.mark.parametrize(
    "token",
    [
        TokenIssuer("another-secret-with-at-least-32-bytes!", "legacy-monolith", 3600).issue(
            "user-1", "erin@example.com"
        ),
        TokenIssuer(SECRET, "someone-else", 3600).issue("user-1", "erin@example.com"),
        TokenIssuer(SECRET, "legacy-monolith", 60).issue(
            "user-1", "erin@example.com", now=datetime.now(UTC) - timedelta(hours=1)
        ),
        jwt.encode({"sub": "user-1", "iss": "legacy-monolith"}, SECRET, algorithm="HS256"),
        jwt.encode(
            {"sub": "user-1", "iss": "legacy-monolith", "iat": 0, "exp": 2**40},
            "",
            algorithm="none",
        ),
        "not-a-token",
    ],
    ids=["other-secret", "other-issuer", "expired", "no-expiry", "unsigned", "garbage"],
)
def test_a_token_billing_cannot_trust_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        TokenVerifier(SECRET, "legacy-monolith").user_id(token)
