"""Who is calling: the bearer access token, verified as every side verifies it
(``strangler_tokens.TokenVerifier``), then checked against what only auth knows.

Auth accepts its own EdDSA tokens and, while the routes move, the monolith's HS256 tokens
(``AUTH_LEGACY_JWT_SECRET``), so nobody holding one is logged out by a route flip. Beyond the
signature and claims it refuses, like the monolith, a token issued before its user's last
password change, and a token of a session that was logged out or whose refresh token was
reused (``Accounts.holder``). Every refusal is a 401 problem document; a key set that cannot
be read at all is a 503, never a claim that the token is bad.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from http_platform import Problem
from http_platform.problem_catalogue import SERVICE_UNAVAILABLE
from http_platform.service_app import root_of
from strangler_tokens import KeysUnavailable, TokenRefused

from auth_service.bootstrap import AuthProcess
from auth_service.entrypoints.problems import unauthenticated
from auth_service.service_layer.accounts import TokenHolder

__all__ = ["Holder", "client_address"]

_bearer = HTTPBearer(auto_error=False)


async def _holder(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenHolder:
    if credentials is None:
        raise unauthenticated("Send 'Authorization: Bearer <access_token>' from /api/auth/login.")
    process = root_of(request, AuthProcess)
    try:
        token = await process.verifier.verify(credentials.credentials)
    except TokenRefused as exc:
        raise unauthenticated(f"The access token is not valid: {exc.detail}.") from exc
    except KeysUnavailable as exc:
        raise Problem(SERVICE_UNAVAILABLE, "The signing keys cannot be read; retry.") from exc
    own = token.issuer == process.settings.issuer
    return TokenHolder(
        user_id=token.subject,
        issued_at=token.issued_at,
        token_id=token.token_id if own else None,
    )


Holder = Annotated[TokenHolder, Depends(_holder)]


def client_address(request: Request) -> str:
    """The client's address for login throttling: the peer, or, when the peer is a trusted
    proxy (the gateway), the address it appended last to ``X-Forwarded-For``. Entries before
    that one were written by the client and are not believed."""
    peer = request.client.host if request.client is not None else "unknown"
    trusted = root_of(request, AuthProcess).settings.trusted_proxies
    forwarded = request.headers.get("x-forwarded-for")
    if peer in trusted and forwarded:
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:100]
    return peer
