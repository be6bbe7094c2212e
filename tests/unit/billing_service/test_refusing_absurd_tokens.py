"""A signed token whose claims make no sense is refused by billing as by the monolith."""

from __future__ import annotations

import time

import jwt
import pytest
from billing_service.entrypoints.identity import InvalidToken, TokenVerifier

SECRET = "a-shared-secret-with-at-least-32-bytes"


def _signed(**claims: object) -> str:
    now = int(time.time())
    base: dict[str, object] = {"sub": "user-1", "iss": "legacy-monolith", "iat": now}
    return jwt.encode({**base, "exp": now + 600, **claims}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"iat": -(10**20)},
        {"iat": -1},
        {"iat": "123"},
        {"iat": True},
        {"sub": 12345},
        {"sub": ""},
        {"sub": "u" * 65},
        {"sub": ["user-1"]},
    ],
    ids=[
        "iat-far-past",
        "iat-negative",
        "iat-string",
        "iat-bool",
        "sub-number",
        "sub-empty",
        "sub-too-long",
        "sub-list",
    ],
)
def test_a_token_with_absurd_claims_is_refused(claims: dict[str, object]) -> None:
    with pytest.raises(InvalidToken):
        TokenVerifier(SECRET, "legacy-monolith").user_id(_signed(**claims))
