"""Access tokens a whole system can verify (issue 13): Ed25519 keys and JWKS documents, the
auth service's EdDSA tokens, one verifier for them and for the monolith's HS256 tokens while
the session bridge lasts, and a cache of verified tokens for the gateway.

Everyone verifies through ``TokenVerifier``; nobody calls ``jwt.decode`` on their own, so
every side refuses the same tokens for the same reasons (``TokenRefused.reason``).
"""

from strangler_tokens.access_tokens import (
    AUDIENCE,
    AUTH_ISSUER,
    VerifiedToken,
    access_claims,
    issue_access_token,
)
from strangler_tokens.cache import VerifiedTokenCache
from strangler_tokens.jwks import JwksKeys
from strangler_tokens.keys import (
    ALGORITHM,
    Jwk,
    SigningKey,
    jwks_document,
    key_id,
    public_jwk,
    public_key_from_jwk,
)
from strangler_tokens.refusals import KeysUnavailable, Reason, TokenRefused
from strangler_tokens.verifier import LEGACY_ALGORITHM, LegacyIssuer, TokenVerifier

__all__ = [
    "ALGORITHM",
    "AUDIENCE",
    "AUTH_ISSUER",
    "LEGACY_ALGORITHM",
    "Jwk",
    "JwksKeys",
    "KeysUnavailable",
    "LegacyIssuer",
    "Reason",
    "SigningKey",
    "TokenRefused",
    "TokenVerifier",
    "VerifiedToken",
    "VerifiedTokenCache",
    "access_claims",
    "issue_access_token",
    "jwks_document",
    "key_id",
    "public_jwk",
    "public_key_from_jwk",
]
