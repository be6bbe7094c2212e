"""Bearer access tokens (HS256 JWT). Password hashes are ``strangler_identity.PasswordHashing``'s,
the schemes the monolith and the auth service both accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

__all__ = ["TokenIssuer"]


class TokenIssuer:
    """Issues the monolith's bearer tokens. Verifying them is ``auth_bridge``'s, through
    ``strangler_tokens`` like every side of the system, with the auth service's tokens."""

    algorithm = "HS256"

    def __init__(self, secret: str, issuer: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: str, email: str, now: datetime | None = None) -> str:
        issued_at = now or datetime.now(UTC)
        claims = {
            "sub": user_id,
            "email": email,
            "iss": self._issuer,
            # Sub-second precision: a token issued in the same second as a password change
            # must still be told apart from one issued after it.
            "iat": issued_at.timestamp(),
            "exp": issued_at + timedelta(seconds=self.ttl_seconds),
        }
        return jwt.encode(claims, self._secret, algorithm=self.algorithm)
