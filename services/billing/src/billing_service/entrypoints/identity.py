"""Who is calling: the user id in the bearer token the monolith issued.

Billing trusts the caller the way the monolith does: an HS256 JWT signed with the shared
secret, from the expected issuer, not expired; its subject is the user id, which is the
customer id in billing.

One check of the monolith's is out of reach on purpose: the monolith also refuses a token
issued before the user's last password change, which needs the accounts data billing does
not hold (and must not read from the monolith's tables). Such a token stays valid here until
it expires. Closing that gap belongs to the auth extraction (a password change published as
an event, or short-lived tokens), not to billing.
"""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from http_platform import Problem
from http_platform.service_app import root_of

from billing_service.bootstrap import BillingProcess

__all__ = ["CustomerId", "InvalidToken", "TokenVerifier"]

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
        # The monolith's rule, so both sides refuse the same tokens (PyJWT lets "123" pass).
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


def _customer_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        raise _unauthenticated("Send 'Authorization: Bearer <access_token>' from /api/auth/login.")
    settings = root_of(request, BillingProcess).settings
    verifier = TokenVerifier(settings.jwt_secret.get_secret_value(), settings.jwt_issuer)
    try:
        return verifier.user_id(credentials.credentials)
    except InvalidToken as exc:
        raise _unauthenticated(f"The access token is not valid: {exc}.") from exc


CustomerId = Annotated[str, Depends(_customer_id)]
