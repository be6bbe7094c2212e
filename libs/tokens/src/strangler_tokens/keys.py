"""Ed25519 signing keys, their public JWKs and the JWKS document that lists them.

A key's id is its RFC 7638 JWK thumbprint: derived from the public key itself, so two
services never disagree on which key a ``kid`` names and no registry of ids is needed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

__all__ = [
    "ALGORITHM",
    "Jwk",
    "SigningKey",
    "jwks_document",
    "key_id",
    "public_jwk",
    "public_key_from_jwk",
]

ALGORITHM = "EdDSA"

Jwk = dict[str, str]


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 thumbprint: SHA-256 of the key's required members in canonical JSON."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_public_bytes(public_key))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def public_jwk(public_key: Ed25519PublicKey, kid: str | None = None) -> Jwk:
    """The public key as a JWK for verifying EdDSA signatures (``use: sig``)."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(_public_bytes(public_key)),
        "kid": kid or key_id(public_key),
        "alg": ALGORITHM,
        "use": "sig",
    }


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """The Ed25519 public key a JWK holds; ``ValueError`` for anything else."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 key (kty OKP, crv Ed25519)")
    if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
        raise ValueError("not a key for EdDSA signatures")
    if "d" in jwk:
        raise ValueError("a private key has no place in a public key set")
    x = jwk.get("x")
    if not isinstance(x, str):
        raise ValueError("the key has no public part (x)")
    try:
        raw = _b64url_decode(x)
    except ValueError as exc:
        raise ValueError("the public part (x) is not base64url") from exc
    if len(raw) != 32:
        raise ValueError("the public part (x) is not 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def jwks_document(jwks: Iterable[Jwk]) -> dict[str, list[Jwk]]:
    """``{"keys": [...]}``, what ``/.well-known/jwks.json`` serves."""
    return {"keys": list(jwks)}


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private Ed25519 key and its id; ``sign`` puts the id in each token's header."""

    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        private_key = Ed25519PrivateKey.generate()
        return cls(key_id(private_key.public_key()), private_key)

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> SigningKey:
        """The key stored with ``private_bytes`` (32 raw bytes), with its id derived again."""
        private_key = Ed25519PrivateKey.from_private_bytes(raw)
        return cls(key_id(private_key.public_key()), private_key)

    def private_bytes(self) -> bytes:
        """The 32 raw bytes of the private key: what a key store keeps (encrypted or not)."""
        return self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> Jwk:
        return public_jwk(self.public_key, self.kid)

    def sign(self, claims: Mapping[str, Any]) -> str:
        """A compact JWS: header ``{"alg": "EdDSA", "typ": "JWT", "kid": ...}``."""
        return jwt.encode(
            dict(claims), self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid}
        )
