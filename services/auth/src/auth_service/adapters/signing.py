"""Ed25519 keys and EdDSA access tokens, on ``strangler_tokens`` (the one token library every
side signs and verifies with).

The domain holds a key as text (``SigningKey.private_key``: base64url of its 32 raw bytes;
``public_key``: the JWK's ``x``); this module turns it into the library's key, once per key.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from strangler_tokens import Jwk, access_claims
from strangler_tokens import SigningKey as Ed25519Key
from strangler_tokens import public_jwk as tokens_public_jwk

from auth_service.domain.signing_keys import KeyState, SigningKey
from auth_service.domain.users import User
from auth_service.service_layer.keys import SigningKeyring
from auth_service.service_layer.ports import IssuedAccessToken

__all__ = ["Ed25519AccessTokens", "new_signing_key", "public_jwk"]


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_signing_key(now: datetime) -> SigningKey:
    """A fresh Ed25519 key pair, ``next`` until a rotation promotes it."""
    key = Ed25519Key.generate()
    return SigningKey(
        kid=key.kid,
        private_key=_b64url(key.private_bytes()),
        public_key=key.public_jwk()["x"],
        state=KeyState.NEXT,
        created_at=now,
    )


def public_jwk(key: SigningKey) -> Jwk:
    """The key as its JWKS lists it (``strangler_tokens.public_jwk``): never the private
    half."""
    return tokens_public_jwk(
        Ed25519PublicKey.from_public_bytes(_b64url_decode(key.public_key)), key.kid
    )


class Ed25519AccessTokens:
    """``AccessTokens``: signed by the keyring's current key, the token contract's claims."""

    def __init__(
        self, keyring: SigningKeyring, *, issuer: str, audience: str, ttl: timedelta
    ) -> None:
        self._keyring = keyring
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._loaded: dict[str, Ed25519Key] = {}

    async def issue(self, user: User, now: datetime) -> IssuedAccessToken:
        key = self._key(await self._keyring.signing())
        token_id = secrets.token_urlsafe(16)
        claims = access_claims(
            user.id,
            user.email,
            ttl=self._ttl,
            issuer=self._issuer,
            audience=self._audience,
            now=now,
            token_id=token_id,
        )
        return IssuedAccessToken(
            token=key.sign(claims),
            token_id=token_id,
            expires_in=int(self._ttl.total_seconds()),
        )

    def _key(self, stored: SigningKey) -> Ed25519Key:
        key = self._loaded.get(stored.kid)
        if key is None:
            key = Ed25519Key.from_private_bytes(_b64url_decode(stored.private_key))
            if key.kid != stored.kid:
                raise ValueError(f"signing key {stored.kid} does not match its private half")
            self._loaded[stored.kid] = key
        return key
