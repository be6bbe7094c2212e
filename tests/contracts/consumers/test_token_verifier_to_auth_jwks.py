"""Every token verifier (the gateway, billing and the monolith, through strangler_tokens'
``JwksKeys``) → auth's ``/.well-known/jwks.json``: an Ed25519 key by its kid, and how long
the set may be kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pact import Pact, match
from strangler_tokens import JwksKeys
from strangler_tokens.keys import public_jwk

from tests.contracts.pacts import pact_dir

EXAMPLE = public_jwk(Ed25519PrivateKey.generate().public_key())


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    pact = Pact("token-verifier", "auth").with_specification("V4")
    (
        pact.upon_receiving("the key set that verifies access tokens")
        .given("auth has a signing key")
        .with_request("GET", "/.well-known/jwks.json")
        .with_header("Accept", "application/json")
        .will_respond_with(200)
        # A header with commas is a list to Pact: each of its values must be one of these.
        .with_header(
            "Cache-Control", match.regex("max-age=300", regex=r"^(public|private|max-age=\d+)$")
        )
        .with_body(
            {
                "keys": match.each_like(
                    {
                        "kty": "OKP",
                        "crv": "Ed25519",
                        "x": match.str(EXAMPLE["x"]),
                        "kid": match.str(EXAMPLE["kid"]),
                        "alg": "EdDSA",
                        "use": "sig",
                    },
                    min=1,
                )
            },
            content_type="application/json",
        )
    )
    with pact.serve() as mock:
        yield f"{mock.url}/.well-known/jwks.json"
    pact.write_file(pact_dir(), overwrite=True)


async def test_a_verifier_finds_the_signing_key_by_its_kid(jwks_url: str) -> None:
    keys = JwksKeys(jwks_url)
    try:
        key = await keys.key(str(EXAMPLE["kid"]))
    finally:
        await keys.aclose()
    assert key is not None
