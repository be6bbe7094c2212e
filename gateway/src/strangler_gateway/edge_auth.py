"""Verifying the caller at the edge: a route that needs a user gets one, proven, or a 401.

The gateway checks the bearer token itself, through ``strangler_tokens`` like every side:
the auth service's EdDSA tokens against its JWKS (fetched once, kept for its ``max-age``,
fetched again on an unknown ``kid`` at most once per ``GATEWAY_JWKS_MIN_REFETCH_SECONDS``)
and, while the session bridge lasts, the monolith's HS256 tokens. A token verified once is
kept by the token itself until it expires (``VerifiedTokenCache``), so a session's requests
after its first cost a dictionary look-up, not a signature check.

What the caller gets:

- a route that needs a user and a missing, forged or broken token: the gateway answers the
  401 problem itself (``WWW-Authenticate: Bearer``); nothing reaches an upstream;
- a verified token: the upstream is handed the subject in ``X-Strangler-Verified-User``. A
  client's own copy of that header is always dropped (headers.py), so an upstream never sees
  one the gateway did not write. It is informative only: upstreams still verify the bearer
  themselves (defence in depth), and it is the verified subject that picks the canary bucket;
- a public operation (register, log in, refresh, log out, the plan list, the JWKS): no token
  needed. A valid one still identifies the caller for routing; an invalid one is ignored.

Off unless the gateway is given keys to verify with (``GATEWAY_AUTH_JWKS_URL`` or
``GATEWAY_LEGACY_JWT_SECRET``): then routing reads the token without verifying it
(identity.py), as before the auth extraction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from strangler_tokens import (
    JwksKeys,
    KeysUnavailable,
    LegacyIssuer,
    TokenRefused,
    TokenVerifier,
    VerifiedToken,
    VerifiedTokenCache,
)

from strangler_gateway.faults import AuthKeysUnavailable, Unauthenticated
from strangler_gateway.headers import VERIFIED_USER_HEADER
from strangler_gateway.identity import Caller, identify
from strangler_gateway.metrics import EDGE_REFUSALS
from strangler_gateway.settings import GatewaySettings

__all__ = [
    "PUBLIC_OPERATIONS",
    "VERIFIED_USER_HEADER",
    "EdgeAuth",
    "edge_auth",
    "verified_caller",
]

# The operations of /api a caller uses before it holds an access token, as the monolith and
# the auth service serve them without one. Exact paths: anything else under /api needs a user.
PUBLIC_OPERATIONS: Final = frozenset(
    {
        ("POST", "/api/users"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/auth/refresh"),
        ("POST", "/api/auth/logout"),
        ("GET", "/api/billing/plans"),
        ("HEAD", "/api/billing/plans"),
        ("GET", "/.well-known/jwks.json"),
        ("HEAD", "/.well-known/jwks.json"),
    }
)
_MISSING_BEARER = "Send 'Authorization: Bearer <access_token>' from /api/auth/login."


class EdgeAuth:
    """Who is calling, verified: ``caller`` for the routing facts, the subject for upstreams."""

    def __init__(
        self,
        verifier: TokenVerifier,
        public: frozenset[tuple[str, str]] = PUBLIC_OPERATIONS,
    ) -> None:
        self._verifier = verifier
        self._public = public

    def needs_user(self, method: str, path: str) -> bool:
        return (method, path) not in self._public

    async def verified(
        self, route: str, method: str, path: str, head: Mapping[bytes, bytes]
    ) -> VerifiedToken | None:
        """The verified token of a request; ``Unauthenticated`` or ``AuthKeysUnavailable`` when
        the operation needs a user and cannot be shown to have one. ``head``: the request's
        headers by lower-case name."""
        needed = self.needs_user(method, path)
        token = _bearer(head.get(b"authorization"))
        if token is None:
            if needed:
                EDGE_REFUSALS.labels(route, "no-token").inc()
                raise Unauthenticated(_MISSING_BEARER)
            return None
        try:
            return await self._verifier.verify(token)
        except TokenRefused as refused:
            if not needed:
                return None
            EDGE_REFUSALS.labels(route, refused.reason).inc()
            raise Unauthenticated(f"The access token is not valid: {refused}.") from refused
        except KeysUnavailable as unavailable:
            if not needed:
                return None
            EDGE_REFUSALS.labels(route, "keys-unavailable").inc()
            raise AuthKeysUnavailable(
                "The auth service's signing keys cannot be fetched to check this token; retry."
            ) from unavailable

    async def aclose(self) -> None:
        await self._verifier.aclose()


def verified_caller(verified: VerifiedToken | None, cookie_header: str | None) -> Caller:
    """The routing facts: the verified subject, else only the gateway's own cookie — never a
    claim of a token that was not verified."""
    if verified is None:
        return identify(None, cookie_header)
    return Caller(user_key=verified.subject, user_id=verified.subject, email=verified.email)


def _bearer(authorization: bytes | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def edge_auth(settings: GatewaySettings) -> EdgeAuth | None:
    """Edge verification with the keys the settings give, or None when they give none."""
    secret = settings.legacy_jwt_secret
    if settings.auth_jwks_url is None and secret is None:
        return None
    keys = (
        JwksKeys(settings.auth_jwks_url, min_refetch_seconds=settings.jwks_min_refetch_seconds)
        if settings.auth_jwks_url
        else None
    )
    legacy = LegacyIssuer(secret.get_secret_value(), settings.legacy_jwt_issuer) if secret else None
    return EdgeAuth(
        TokenVerifier(
            keys,
            issuer=settings.auth_issuer,
            legacy=legacy,
            cache=VerifiedTokenCache(settings.verified_token_cache_size),
        )
    )
