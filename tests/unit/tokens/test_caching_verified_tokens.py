"""The gateway's cache of verified tokens: a repeat is a look-up, an entry never outlives its
token, and the cache never grows past its bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from strangler_tokens import (
    JwksKeys,
    SigningKey,
    TokenRefused,
    TokenVerifier,
    VerifiedToken,
    VerifiedTokenCache,
)

from tests.support.token_forgery import attacks, valid_auth_token
from tests.unit.tokens.conftest import FakeClock, PublishedKeys


def verified(subject: str, expires_at: float) -> VerifiedToken:
    return VerifiedToken(
        subject=subject,
        email=None,
        issued_at=datetime.fromtimestamp(expires_at - 60, UTC),
        issuer="strangler-fig-auth",
        token_id=subject,
        expires_at=datetime.fromtimestamp(expires_at, UTC),
    )


def test_an_entry_is_gone_when_its_token_expires(clock: FakeClock) -> None:
    cache = VerifiedTokenCache(clock=clock)
    cache.put("token", verified("user-1", expires_at=clock.now + 60))

    clock.now += 59
    assert cache.get("token") is not None
    clock.now += 1
    assert cache.get("token") is None
    assert len(cache) == 0


def test_the_least_recently_used_token_leaves_a_full_cache(clock: FakeClock) -> None:
    cache = VerifiedTokenCache(max_entries=3, clock=clock)
    for name in ("a", "b", "c"):
        cache.put(name, verified(name, clock.now + 600))
    cache.get("a")

    cache.put("d", verified("d", clock.now + 600))

    assert len(cache) == 3
    assert cache.get("b") is None
    assert [cache.get(name) is not None for name in ("a", "c", "d")] == [True, True, True]


async def test_a_repeated_token_is_answered_from_the_cache_even_with_auth_unreachable(
    jwks: JwksKeys, published: PublishedKeys, signing_key: SigningKey, clock: FakeClock
) -> None:
    verifier = TokenVerifier(jwks, cache=VerifiedTokenCache())
    token = valid_auth_token(signing_key, "user-1")
    first = await verifier.verify(token)
    published.down = True
    clock.now += published.max_age + 1

    assert await verifier.verify(token) is first
    assert published.fetches == 1


async def test_a_refused_token_is_not_cached_as_verified(
    jwks: JwksKeys, signing_key: SigningKey
) -> None:
    cache = VerifiedTokenCache()
    verifier = TokenVerifier(jwks, cache=cache)
    token = attacks(signing_key, "user-1")["tampered-signature"]

    for _ in range(2):
        with pytest.raises(TokenRefused):
            await verifier.verify(token)
    assert len(cache) == 0


def test_an_entry_expires_with_the_token_not_with_the_cache() -> None:
    cache = VerifiedTokenCache()
    past = datetime.now(UTC) - timedelta(seconds=1)
    cache.put("token", verified("user-1", past.timestamp()))

    assert cache.get("token") is None
