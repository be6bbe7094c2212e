"""Forged and broken bearer tokens: every attack issue 13 names, built once for every side.

``attacks(published_key, subject)`` gives each attack a name and a token aimed at a real
user: ``alg: none``, HS256 signed with the published public key (algorithm confusion), an
unknown ``kid``, expired, not yet valid, wrong issuer, wrong audience, a tampered payload, a
tampered signature, garbage, a bad subject and a bad issue time. Each must be refused with a
401 wherever it is sent — never accepted, never a 500. ``REASONS`` is the refusal each one
gets from ``strangler_tokens``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from strangler_tokens import SigningKey, access_claims
from strangler_tokens.refusals import Reason

__all__ = ["REASONS", "attacks", "b64url", "signed_with_hmac", "valid_auth_token"]

HOUR = 3600

REASONS: dict[str, Reason] = {
    "alg-none": "algorithm-not-allowed",
    "hs256-with-public-key": "algorithm-not-allowed",
    "unknown-kid": "unknown-key",
    "no-kid": "unknown-key",
    "expired": "expired",
    "not-yet-valid": "not-yet-valid",
    "wrong-issuer": "wrong-issuer",
    "wrong-audience": "wrong-audience",
    "tampered-payload": "bad-signature",
    "tampered-signature": "bad-signature",
    "garbage": "malformed",
    "three-garbage-parts": "malformed",
    "subject-not-a-string": "bad-subject",
    "subject-too-long": "bad-subject",
    "issued-at-a-string": "bad-issued-at",
    "issued-at-absurd": "bad-issued-at",
}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _segment(document: dict[str, Any]) -> str:
    return b64url(json.dumps(document, separators=(",", ":")).encode())


def signed_with_hmac(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token signed by hand, so no library stands between the forger and the bytes."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def valid_auth_token(key: SigningKey, subject: str, email: str = "") -> str:
    return key.sign(_claims(subject, email))


def _claims(subject: str, email: str = "", **changes: Any) -> dict[str, Any]:
    claims = access_claims(subject, email or f"{subject}@example.com", ttl=timedelta(hours=1))
    claims.update(changes)
    return claims


def attacks(published: SigningKey, subject: str) -> dict[str, str]:
    """Each attack's token, aimed at ``subject``, against a verifier that trusts ``published``."""
    now = time.time()
    stranger = SigningKey.generate()
    public_pem = published.public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    genuine = valid_auth_token(published, subject)
    head, payload, signature = genuine.split(".")
    tampered_claims = _claims("someone-else")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return {
        "alg-none": f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(_claims(subject))}.",
        "hs256-with-public-key": signed_with_hmac(
            {"alg": "HS256", "typ": "JWT", "kid": published.kid}, _claims(subject), public_pem
        ),
        "unknown-kid": stranger.sign(_claims(subject)),
        "no-kid": _without_kid(published, _claims(subject)),
        "expired": published.sign(_claims(subject, exp=int(now - HOUR), nbf=int(now - 2 * HOUR),
                                          iat=now - 2 * HOUR)),
        "not-yet-valid": published.sign(_claims(subject, nbf=int(now + HOUR))),
        "wrong-issuer": published.sign(_claims(subject, iss="someone-else")),
        "wrong-audience": published.sign(_claims(subject, aud="another-system")),
        "tampered-payload": f"{head}.{_segment(tampered_claims)}.{signature}",
        "tampered-signature": f"{head}.{payload}.{flipped}",
        "garbage": "not-a-token",
        "three-garbage-parts": "e30.bm9wZQ.c2ln!",
        "subject-not-a-string": published.sign(_claims(subject, sub=12345)),
        "subject-too-long": published.sign(_claims(subject, sub="u" * 65)),
        "issued-at-a-string": published.sign(_claims(subject, iat=str(int(now)))),
        "issued-at-absurd": published.sign(_claims(subject, iat=-1e20)),
    }  # fmt: skip


def _without_kid(key: SigningKey, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key.private_key, algorithm="EdDSA")
