"""Who is calling: the user id in the bearer token the monolith issued.

Notifications trusts the caller the way billing does (``billing_service.entrypoints.
identity``, the same rules until the shared token verifier lands): an HS256 JWT signed with
the shared secret, from the expected issuer, not expired; its subject is the user id.

Two checks of the monolith's are out of reach, as for billing: a token of a user this
service has not heard of is accepted (their list is simply empty), and a token issued
before the user's last password change stays valid until it expires.
"""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from http_platform import Problem
from http_platform.service_app import root_of

from notifications_service.bootstrap import NotificationsProcess

__all__ = ["InvalidToken", "TokenVerifier", "UserId"]

ALGORITHM = "HS256"
MAX_SUBJECT_LENGTH = 64
MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z, the last instant datetime holds


class InvalidToken(Exception):
    pass


class TokenVerifier:
    def __init__(self, secret: str, issuer: str) -> None:
        self._secret = secret
        self._issuer = issuer

    def user_id(self, token: str) -> str:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                options={"require": ["sub", "iat", "exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        subject, issued_at = claims["sub"], claims["iat"]
        if not isinstance(subject, str) or not 1 <= len(subject) <= MAX_SUBJECT_LENGTH:
            raise InvalidToken("the subject (sub) is not a user id")
        if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
            raise InvalidToken("the issue time (iat) is not a number")
        if not 0 <= issued_at <= MAX_TIMESTAMP:
            raise InvalidToken("the issue time (iat) is out of range")
        return subject


def _unauthenticated(detail: str) -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


_bearer = HTTPBearer(auto_error=False)


def _user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        raise _unauthenticated("Send 'Authorization: Bearer <access_token>' from /api/auth/login.")
    settings = root_of(request, NotificationsProcess).settings
    verifier = TokenVerifier(settings.jwt_secret.get_secret_value(), settings.jwt_issuer)
    try:
        return verifier.user_id(credentials.credentials)
    except InvalidToken as exc:
        raise _unauthenticated(f"The access token is not valid: {exc}.") from exc


UserId = Annotated[str, Depends(_user_id)]
