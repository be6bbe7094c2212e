"""A signed monolith token whose claims make no sense is refused (PyJWT alone lets a signed
``"123"`` through as ``iat``)."""

from __future__ import annotations

import time

import jwt
import pytest
from strangler_tokens import LegacyIssuer, TokenRefused, TokenVerifier

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
async def test_a_token_with_absurd_claims_is_refused(claims: dict[str, object]) -> None:
    verifier = TokenVerifier(legacy=LegacyIssuer(SECRET, "legacy-monolith"))

    with pytest.raises(TokenRefused) as refused:
        await verifier.verify(_signed(**claims))

    assert refused.value.reason in {"bad-issued-at", "bad-subject"}
