"""Who is calling: the user id in the bearer token, verified as billing verifies it.

Notifications verifies through ``strangler_tokens`` like every other side, so a token it
refuses is refused with the monolith's own words (the parity suite compares them): the
monolith's HS256 tokens (shared secret, expected issuer, not expired), while the session
bridge lasts. The verifier for them holds no keys and costs nothing to build per request.

Two checks of the monolith's are out of reach, as for billing: a token of a user this
service has not heard of is accepted (their list is simply empty), and a token issued
before the user's last password change stays valid until it expires.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from http_platform import Problem
from http_platform.problem_catalogue import UNAUTHENTICATED
from http_platform.service_app import root_of
from strangler_tokens import LegacyIssuer, TokenRefused, TokenVerifier

from notifications_service.bootstrap import NotificationsProcess

__all__ = ["UserId"]


def _unauthenticated(detail: str) -> Problem:
    return Problem(UNAUTHENTICATED, detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False)


async def _user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        raise _unauthenticated("Send 'Authorization: Bearer <access_token>' from /api/auth/login.")
    settings = root_of(request, NotificationsProcess).settings
    verifier = TokenVerifier(
        legacy=LegacyIssuer(settings.jwt_secret.get_secret_value(), settings.jwt_issuer)
    )
    try:
        verified = await verifier.verify(credentials.credentials)
    except TokenRefused as exc:
        raise _unauthenticated(f"The access token is not valid: {exc}.") from exc
    return verified.subject


UserId = Annotated[str, Depends(_user_id)]
