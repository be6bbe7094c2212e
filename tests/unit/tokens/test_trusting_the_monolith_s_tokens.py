"""During the session bridge, the monolith's bearer tokens are trusted as the monolith issues
them (its secret, its issuer), and nothing that only looks like them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from legacy_monolith.security import TokenIssuer
from strangler_tokens import LegacyIssuer, TokenRefused, TokenVerifier

SECRET = "a-shared-secret-with-at-least-32-bytes"
BRIDGE = TokenVerifier(legacy=LegacyIssuer(SECRET, "legacy-monolith"))


async def test_a_token_the_monolith_issued_names_its_user() -> None:
    token = TokenIssuer(SECRET, "legacy-monolith", 3600).issue("user-1", "erin@example.com")

    assert (await BRIDGE.verify(token)).subject == "user-1"


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
async def test_a_token_the_monolith_did_not_issue_is_refused(token: str) -> None:
    with pytest.raises(TokenRefused):
        await BRIDGE.verify(token)
