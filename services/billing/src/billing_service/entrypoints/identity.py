"""Who is calling: the user id in a bearer token billing trusts, which is the customer id.

Billing verifies through ``strangler_tokens`` like every other side, with the one verifier
its composition root built (``BillingProcess.tokens``, which keeps the auth service's keys
between requests). It trusts the auth service's EdDSA tokens (``BILLING_AUTH_JWKS_URL``) and,
while the session bridge lasts, the monolith's HS256 tokens: a user keeps being served with
whichever token they hold while ``/api/auth`` moves. A token it refuses is a 401 problem
document naming the reason; keys it cannot fetch are a 503, never a 401.

One check of the monolith's is out of reach on purpose: the monolith also refuses a token
issued before the user's last password change, which needs the accounts data billing does
not hold (and must not read from the monolith's tables). Such a token stays valid here until
it expires — 15 minutes for the auth service's tokens.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from http_platform.bearer import NO_BEARER, keys_unavailable, unauthenticated
from http_platform.service_app import root_of
from strangler_tokens import KeysUnavailable, TokenRefused

from billing_service.bootstrap import BillingProcess

__all__ = ["CustomerId"]

_bearer = HTTPBearer(auto_error=False)


async def _customer_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        raise unauthenticated(NO_BEARER)
    tokens = root_of(request, BillingProcess).tokens
    try:
        verified = await tokens.verify(credentials.credentials)
    except TokenRefused as exc:
        raise unauthenticated(f"The access token is not valid: {exc}.") from exc
    except KeysUnavailable as exc:
        raise keys_unavailable() from exc
    return verified.subject


CustomerId = Annotated[str, Depends(_customer_id)]
