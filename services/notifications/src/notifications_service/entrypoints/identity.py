"""Who is calling: the user id in a bearer token notifications trusts.

Notifications verifies through ``strangler_tokens`` like every other side, with the one
verifier its composition root built (``NotificationsProcess.tokens``, which keeps the auth
service's keys between requests). It trusts the auth service's EdDSA tokens
(``NOTIFICATIONS_AUTH_JWKS_URL``) and, while the session bridge lasts, the monolith's HS256
tokens: a user keeps reading their mail and preferences with whichever token they hold while
``/api/auth`` moves. A token it refuses is a 401 problem document in the monolith's own words
(the parity suite compares them); keys it cannot fetch are a 503, never a 401.

Two checks of the monolith's are out of reach, as for billing: a token of a user this
service has not heard of is accepted (their list is simply empty), and a token issued
before the user's last password change stays valid until it expires.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from http_platform.bearer import NO_BEARER, keys_unavailable, unauthenticated
from http_platform.service_app import root_of
from strangler_tokens import KeysUnavailable, TokenRefused

from notifications_service.bootstrap import NotificationsProcess

__all__ = ["UserId"]

_bearer = HTTPBearer(auto_error=False)


async def _user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        raise unauthenticated(NO_BEARER)
    tokens = root_of(request, NotificationsProcess).tokens
    try:
        verified = await tokens.verify(credentials.credentials)
    except TokenRefused as exc:
        raise unauthenticated(f"The access token is not valid: {exc}.") from exc
    except KeysUnavailable as exc:
        raise keys_unavailable() from exc
    return verified.subject


UserId = Annotated[str, Depends(_user_id)]
