"""The access token's claims, as the auth service issues them and every verifier reads them.

An auth token: ``iss`` (``AUTH_ISSUER`` unless configured), ``aud`` ``"strangler-fig"``,
``sub`` (the user id, the same ids as the monolith's users), ``email``, ``iat`` (float
seconds: a token issued in the same second as a password change must still be told apart
from one issued after it), ``nbf``, ``exp`` and ``jti``. A monolith token has no ``aud``,
``nbf`` or ``jti``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from strangler_tokens.keys import SigningKey

__all__ = [
    "AUDIENCE",
    "AUTH_ISSUER",
    "MAX_SUBJECT_LENGTH",
    "MAX_TIMESTAMP",
    "VerifiedToken",
    "access_claims",
    "issue_access_token",
]

AUTH_ISSUER: Final = "strangler-fig-auth"
AUDIENCE: Final = "strangler-fig"
MAX_SUBJECT_LENGTH: Final = 64
MAX_TIMESTAMP: Final = 253402300799  # 9999-12-31T23:59:59Z, the last instant datetime holds


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """What a verified token says: who, since when, from whom, until when."""

    subject: str
    email: str | None
    issued_at: datetime
    issuer: str
    token_id: str | None
    expires_at: datetime


def access_claims(
    subject: str,
    email: str,
    *,
    ttl: timedelta,
    issuer: str = AUTH_ISSUER,
    audience: str = AUDIENCE,
    now: datetime | None = None,
    token_id: str | None = None,
) -> dict[str, Any]:
    """The claims of one access token issued at ``now`` for ``ttl``."""
    issued_at = now or datetime.now(UTC)
    return {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "email": email,
        "iat": issued_at.timestamp(),
        "nbf": int(issued_at.timestamp()),
        "exp": int((issued_at + ttl).timestamp()),
        "jti": token_id or secrets.token_urlsafe(16),
    }


def issue_access_token(
    key: SigningKey,
    subject: str,
    email: str,
    *,
    ttl: timedelta,
    issuer: str = AUTH_ISSUER,
    audience: str = AUDIENCE,
    now: datetime | None = None,
) -> str:
    """An EdDSA access token signed by ``key``, its ``kid`` in the header."""
    claims = access_claims(subject, email, ttl=ttl, issuer=issuer, audience=audience, now=now)
    return key.sign(claims)
