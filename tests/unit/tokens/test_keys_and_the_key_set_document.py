"""Signing keys: ids derived from the public key (RFC 7638), public JWKs a JWKS lists, and
private keys that survive being stored."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from strangler_tokens import SigningKey, jwks_document, key_id, public_key_from_jwk

from tests.support.token_forgery import b64url

# RFC 8037 appendix A.3: the example key's JWK thumbprint.
RFC_8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC_8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_key_id_is_the_rfc_7638_thumbprint_of_the_public_key() -> None:
    public_key = public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC_8037_X})

    assert key_id(public_key) == RFC_8037_THUMBPRINT


def test_the_key_set_lists_public_keys_for_eddsa_signatures_only() -> None:
    current, following = SigningKey.generate(), SigningKey.generate()

    document = jwks_document([current.public_jwk(), following.public_jwk()])

    assert [jwk["kid"] for jwk in document["keys"]] == [current.kid, following.kid]
    for jwk in document["keys"]:
        assert {k: jwk[k] for k in ("kty", "crv", "alg", "use")} == {
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
        }
        assert "d" not in jwk


def test_a_stored_private_key_signs_under_the_same_id_after_loading() -> None:
    key = SigningKey.generate()

    loaded = SigningKey.from_private_bytes(key.private_bytes())

    assert loaded.kid == key.kid
    assert loaded.public_jwk() == key.public_jwk()


def test_a_signed_token_names_its_key_and_algorithm() -> None:
    import jwt

    key = SigningKey.generate()

    header = jwt.get_unverified_header(key.sign({"sub": "user-1"}))

    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": key.kid}


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "OKP", "crv": "X25519", "x": RFC_8037_X},
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "OKP", "crv": "Ed25519", "x": b64url(b"short")},
        {"kty": "OKP", "crv": "Ed25519", "x": RFC_8037_X, "d": RFC_8037_X},
    ],
    ids=["rsa", "x25519", "no-x", "short-x", "private"],
)
def test_a_jwk_that_is_not_a_public_ed25519_key_is_refused(jwk: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"key|public part"):
        public_key_from_jwk(jwk)


def test_a_public_ed25519_jwk_loads() -> None:
    loaded = public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC_8037_X})

    assert isinstance(loaded, Ed25519PublicKey)
