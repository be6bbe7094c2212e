"""Password hashing (argon2) and bearer access tokens (HS256 JWT)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["AccessToken", "InvalidToken", "PasswordHashing", "TokenIssuer"]

MAX_SUBJECT_LENGTH: Final = 64
MAX_TIMESTAMP: Final = 253402300799  # 9999-12-31T23:59:59Z, the last instant datetime holds


class PasswordHashing:
    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class AccessToken:
    user_id: str
    issued_at: datetime


class TokenIssuer:
    """Issues and verifies the bearer tokens every route of the monolith trusts."""

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

    def verify(self, token: str) -> AccessToken:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                issuer=self._issuer,
                options={"require": ["sub", "iat", "exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return AccessToken(user_id=_subject(claims), issued_at=_issued_at(claims))


def _subject(claims: dict[str, Any]) -> str:
    subject = claims["sub"]
    if not isinstance(subject, str) or not 1 <= len(subject) <= MAX_SUBJECT_LENGTH:
        raise InvalidToken("the subject (sub) is not a user id")
    return subject


def _issued_at(claims: dict[str, Any]) -> datetime:
    """``iat`` as an instant. PyJWT checks only that it converts to an integer and is not in
    the future, so a signed ``"123"``, ``-1e20`` or ``1e300`` gets this far; each is refused
    here as an invalid token instead of failing the request."""
    issued_at = claims["iat"]
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        raise InvalidToken("the issue time (iat) is not a number")
    if not 0 <= issued_at <= MAX_TIMESTAMP:
        raise InvalidToken("the issue time (iat) is out of range")
    return datetime.fromtimestamp(issued_at, UTC)
