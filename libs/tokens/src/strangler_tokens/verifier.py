"""One verifier for every bearer token the system accepts.

- An auth token (``alg: EdDSA``) is checked against the auth service's JWKS: the key its
  ``kid`` names, the auth issuer, the ``strangler-fig`` audience, ``exp``, ``nbf``, ``iat``.
- During the session bridge, a monolith token (``alg: HS256``) is checked with the
  monolith's secret and issuer, when the verifier is given them (``LegacyIssuer``).

The algorithm is chosen by the header, but only from these two, and each has its own key
material: an HS256 token is only ever checked with the monolith's secret, never with a public
key (the algorithm-confusion attack: an HS256 token "signed" with the published Ed25519 key
fails as a bad signature), and an EdDSA token only with a key from the JWKS. ``none`` and
every other algorithm are refused before any key is looked up. Claims are checked after the
signature, so a tampered payload is a bad signature whatever it claims.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from strangler_tokens.access_tokens import (
    AUDIENCE,
    AUTH_ISSUER,
    MAX_SUBJECT_LENGTH,
    MAX_TIMESTAMP,
    VerifiedToken,
)
from strangler_tokens.cache import VerifiedTokenCache
from strangler_tokens.jwks import JwksKeys
from strangler_tokens.keys import ALGORITHM
from strangler_tokens.refusals import Reason, TokenRefused

__all__ = ["LEGACY_ALGORITHM", "LegacyIssuer", "TokenVerifier"]

LEGACY_ALGORITHM: Final = "HS256"
MAX_TOKEN_LENGTH: Final = 8 * 1024
_AUTH_REQUIRED: Final = ["iss", "aud", "sub", "iat", "exp", "jti"]
_LEGACY_REQUIRED: Final = ["iss", "sub", "iat", "exp"]

_REASONS: Final[Sequence[tuple[type[jwt.PyJWTError], Reason]]] = (
    # Most specific first: several of PyJWT's errors are subclasses of others.
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not-yet-valid"),
    (jwt.InvalidIssuerError, "wrong-issuer"),
    (jwt.InvalidAudienceError, "wrong-audience"),
    (jwt.MissingRequiredClaimError, "missing-claim"),
    (jwt.exceptions.InvalidSubjectError, "bad-subject"),
    (jwt.exceptions.InvalidJTIError, "bad-claim"),
    (jwt.InvalidIssuedAtError, "bad-issued-at"),
    (jwt.InvalidSignatureError, "bad-signature"),
    (jwt.InvalidAlgorithmError, "algorithm-not-allowed"),
    (jwt.InvalidKeyError, "algorithm-not-allowed"),
    (jwt.DecodeError, "malformed"),
)


@dataclass(frozen=True, slots=True)
class LegacyIssuer:
    """The monolith's HS256 secret and issuer, trusted while the session bridge lasts."""

    secret: str
    issuer: str


class TokenVerifier:
    """``await verify(token)`` → ``VerifiedToken``, or ``TokenRefused`` with its reason.

    Build one per process (it holds the fetched keys and, at the gateway, the cache of
    verified tokens) and close it with ``aclose``. ``auth_keys=None`` accepts no auth token;
    ``legacy=None`` accepts no monolith token.
    """

    def __init__(
        self,
        auth_keys: JwksKeys | None = None,
        *,
        issuer: str = AUTH_ISSUER,
        audience: str = AUDIENCE,
        legacy: LegacyIssuer | None = None,
        leeway_seconds: float = 5.0,
        cache: VerifiedTokenCache | None = None,
    ) -> None:
        self._auth_keys = auth_keys
        self._issuer = issuer
        self._audience = audience
        self._legacy = legacy
        self._leeway = leeway_seconds
        self._cache = cache

    @property
    def accepts_auth_tokens(self) -> bool:
        return self._auth_keys is not None

    async def verify(self, token: str) -> VerifiedToken:
        """The token's identity if it is valid now; ``KeysUnavailable`` if it cannot be told."""
        if self._cache is not None:
            cached = self._cache.get(token)
            if cached is not None:
                return cached
        verified = await self._verify(token)
        if self._cache is not None:
            self._cache.put(token, verified)
        return verified

    async def aclose(self) -> None:
        if self._auth_keys is not None:
            await self._auth_keys.aclose()

    async def _verify(self, token: str) -> VerifiedToken:
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenRefused("malformed", "the token is longer than any real one")
        header = _header(token)
        algorithm = header.get("alg")
        if algorithm == ALGORITHM and self._auth_keys is not None:
            key = await self._auth_key(self._auth_keys, header.get("kid"))
            claims = _decode(
                token, key, ALGORITHM, self._issuer, self._audience, _AUTH_REQUIRED, self._leeway
            )
            token_id = claims["jti"]
        elif algorithm == LEGACY_ALGORITHM and self._legacy is not None:
            claims = _decode(
                token,
                self._legacy.secret,
                LEGACY_ALGORITHM,
                self._legacy.issuer,
                None,
                _LEGACY_REQUIRED,
                self._leeway,
            )
            token_id = claims.get("jti")
        else:
            raise TokenRefused(
                "algorithm-not-allowed", f"tokens signed with {algorithm!r} are not accepted"
            )
        return _verified(claims, token_id)

    async def _auth_key(self, keys: JwksKeys, kid: object) -> Ed25519PublicKey:
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("unknown-key", "the token names no signing key (kid)")
        key = await keys.key(kid)
        if key is None:
            raise TokenRefused("unknown-key", "the token's signing key (kid) is not published")
        return key


def _header(token: str) -> Mapping[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenRefused("malformed", "the token is not a JWT") from exc


def _decode(
    token: str,
    key: Ed25519PublicKey | str,
    algorithm: str,
    issuer: str,
    audience: str | None,
    required: list[str],
    leeway: float,
) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": required, "verify_aud": audience is not None},
        )
    except jwt.PyJWTError as exc:
        raise TokenRefused(_reason(exc), _detail(exc)) from exc


def _reason(exc: jwt.PyJWTError) -> Reason:
    return next((reason for kind, reason in _REASONS if isinstance(exc, kind)), "malformed")


def _detail(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the signature does not match the token"
    return str(exc)


def _verified(claims: Mapping[str, Any], token_id: object) -> VerifiedToken:
    """The identity in checked claims; PyJWT lets a signed ``"123"``, ``-1e20`` or ``1e300``
    through as ``iat``, and any string as ``sub``: each is refused here, not left to fail a
    request later."""
    subject = claims["sub"]
    if not isinstance(subject, str) or not 1 <= len(subject) <= MAX_SUBJECT_LENGTH:
        raise TokenRefused("bad-subject", "the subject (sub) is not a user id")
    issued_at = claims["iat"]
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        raise TokenRefused("bad-issued-at", "the issue time (iat) is not a number")
    if not 0 <= issued_at <= MAX_TIMESTAMP:
        raise TokenRefused("bad-issued-at", "the issue time (iat) is out of range")
    expires_at = claims["exp"]
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        raise TokenRefused("bad-claim", "the expiry (exp) is not a number")
    if not 0 <= expires_at <= MAX_TIMESTAMP:
        raise TokenRefused("bad-claim", "the expiry (exp) is out of range")
    email = claims.get("email")
    if email is not None and not isinstance(email, str):
        raise TokenRefused("bad-claim", "the e-mail claim is not a string")
    if token_id is not None and not isinstance(token_id, str):
        raise TokenRefused("bad-claim", "the token id (jti) is not a string")
    return VerifiedToken(
        subject=subject,
        email=email,
        issued_at=datetime.fromtimestamp(issued_at, UTC),
        issuer=str(claims["iss"]),
        token_id=token_id,
        expires_at=datetime.fromtimestamp(expires_at, UTC),
    )
