"""The verifier's copy of the JWKS: fetched once, again on an unknown key id at a bounded
rate, again when stale; a failed fetch keeps the keys already held."""

from __future__ import annotations

import pytest
from strangler_tokens import JwksKeys, KeysUnavailable, SigningKey, TokenRefused, TokenVerifier

from tests.support.token_forgery import valid_auth_token
from tests.unit.tokens.conftest import FakeClock, PublishedKeys


async def test_many_tokens_cost_one_fetch_of_the_key_set(
    jwks: JwksKeys, published: PublishedKeys, signing_key: SigningKey
) -> None:
    verifier = TokenVerifier(jwks)

    for number in range(20):
        await verifier.verify(valid_auth_token(signing_key, f"user-{number}"))

    assert published.fetches == 1


async def test_a_key_published_after_the_last_fetch_is_fetched_on_its_first_token(
    jwks: JwksKeys, published: PublishedKeys, signing_key: SigningKey, clock: FakeClock
) -> None:
    verifier = TokenVerifier(jwks)
    await verifier.verify(valid_auth_token(signing_key, "user-1"))
    rotated = SigningKey.generate()
    published.keys.append(rotated)
    clock.now += 11

    verified = await verifier.verify(valid_auth_token(rotated, "user-1"))

    assert verified.subject == "user-1"
    assert published.fetches == 2


async def test_made_up_key_ids_refetch_the_key_set_at_most_once_per_interval(
    jwks: JwksKeys, published: PublishedKeys, signing_key: SigningKey, clock: FakeClock
) -> None:
    verifier = TokenVerifier(jwks)
    await verifier.verify(valid_auth_token(signing_key, "user-1"))

    for _ in range(50):
        with pytest.raises(TokenRefused) as refused:
            await verifier.verify(valid_auth_token(SigningKey.generate(), "user-1"))
        assert refused.value.reason == "unknown-key"
        clock.now += 0.5

    # 25 s of forged key ids at 2 a second, refetches at most every 10 s: 2 more fetches.
    assert published.fetches == 3


async def test_the_key_set_is_fetched_again_when_its_max_age_has_passed(
    jwks: JwksKeys, published: PublishedKeys, signing_key: SigningKey, clock: FakeClock
) -> None:
    verifier = TokenVerifier(jwks)
    await verifier.verify(valid_auth_token(signing_key, "user-1"))
    clock.now += published.max_age + 1

    await verifier.verify(valid_auth_token(signing_key, "user-1"))

    assert published.fetches == 2


async def test_keys_already_held_keep_verifying_while_the_key_set_cannot_be_fetched(
    jwks: JwksKeys, published: PublishedKeys, signing_key: SigningKey, clock: FakeClock
) -> None:
    verifier = TokenVerifier(jwks)
    await verifier.verify(valid_auth_token(signing_key, "user-1"))
    published.down = True
    clock.now += published.max_age + 1

    verified = await verifier.verify(valid_auth_token(signing_key, "user-1"))

    assert verified.subject == "user-1"
    assert published.fetches == 2


async def test_without_any_key_set_an_auth_token_cannot_be_told_valid_or_not(
    jwks: JwksKeys, published: PublishedKeys, signing_key: SigningKey, clock: FakeClock
) -> None:
    published.down = True
    verifier = TokenVerifier(jwks)

    for _ in range(5):
        with pytest.raises(KeysUnavailable):
            await verifier.verify(valid_auth_token(signing_key, "user-1"))
    assert published.fetches == 1

    published.down = False
    clock.now += 11
    assert (await verifier.verify(valid_auth_token(signing_key, "user-1"))).subject == "user-1"


async def test_keys_not_for_eddsa_signatures_are_left_out_of_the_set(
    jwks: JwksKeys, published: PublishedKeys, signing_key: SigningKey
) -> None:
    jwk = signing_key.public_jwk()
    published.entries = [
        {**jwk, "use": "enc"},
        {**jwk, "alg": "ES256"},
        {**jwk, "d": "c2VjcmV0"},
        {**jwk, "x": "dG9vLXNob3J0"},
        {"kty": "RSA", "kid": jwk["kid"], "n": "AQAB", "e": "AQAB"},
    ]

    with pytest.raises(TokenRefused) as refused:
        await TokenVerifier(jwks).verify(valid_auth_token(signing_key, "user-1"))

    assert refused.value.reason == "unknown-key"
