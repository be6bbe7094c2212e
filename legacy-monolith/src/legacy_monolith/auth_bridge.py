"""The session bridge's anti-corruption layer: who a bearer token names, in the monolith's terms.

While ``/api/auth`` and ``/api/users`` move to the auth service, a user may hold a token from
either side and be sent to either side. The monolith accepts both:

- its own HS256 tokens (its secret and issuer), as it always has;
- the auth service's EdDSA tokens, verified against the auth service's JWKS
  (``MONOLITH_AUTH_JWKS_URL``; unset, none are accepted).

Both are verified by ``strangler_tokens``, the one verifier every side uses, so the monolith
refuses exactly what auth, billing and the gateway refuse. The auth service's subject is the
same user id as the monolith's (the users moved with their ids), so a verified subject maps
to the monolith's own ``User`` by id; the monolith's rule then applies to both kinds of
token alike: a token issued before the user's last password change is refused.

Only this module knows that two issuers exist; the routes see a ``User`` or a refusal.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from strangler_tokens import JwksKeys, LegacyIssuer, TokenRefused, TokenVerifier

from legacy_monolith.models import User
from legacy_monolith.settings import MonolithSettings

__all__ = ["AuthBridge", "SessionRefused", "auth_bridge"]


class SessionRefused(Exception):
    """The bearer token names no user the monolith may serve; the message says why."""


class AuthBridge:
    """The monolith's ``User`` for a bearer token from the monolith or the auth service."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    async def user(self, token: str, session: AsyncSession) -> User:
        """``SessionRefused`` for a token not to be served; ``strangler_tokens.KeysUnavailable``
        when the auth service's keys cannot be fetched to tell."""
        try:
            verified = await self._verifier.verify(token)
        except TokenRefused as exc:
            raise SessionRefused(f"The access token is not valid: {exc}.") from exc
        user = await session.get(User, verified.subject)
        if user is None:
            raise SessionRefused("The access token names a user that does not exist.")
        if verified.issued_at < user.password_changed_at:
            raise SessionRefused("The password changed after this token was issued; log in again.")
        return user

    async def aclose(self) -> None:
        await self._verifier.aclose()


def auth_bridge(settings: MonolithSettings) -> AuthBridge:
    """The monolith's own tokens, and the auth service's once ``auth_jwks_url`` is set."""
    return AuthBridge(
        TokenVerifier(
            JwksKeys(settings.auth_jwks_url) if settings.auth_jwks_url else None,
            issuer=settings.auth_issuer,
            legacy=LegacyIssuer(settings.jwt_secret.get_secret_value(), settings.jwt_issuer),
        )
    )
