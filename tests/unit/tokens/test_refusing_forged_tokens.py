"""Every token attack issue 13 names is refused, with its own reason, by the one verifier
every side of the system uses; a genuine token from either issuer is accepted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from strangler_tokens import (
    AUTH_ISSUER,
    JwksKeys,
    LegacyIssuer,
    SigningKey,
    TokenRefused,
    TokenVerifier,
)

from tests.support.token_forgery import REASONS, attacks, valid_auth_token

LEGACY = LegacyIssuer(secret="monolith-secret-" + "x" * 32, issuer="legacy-monolith")


def legacy_token(subject: str, *, secret: str = LEGACY.secret, **changes: object) -> str:
    """A token as the monolith issues it (legacy_monolith.security.TokenIssuer)."""
    issued = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": subject,
        "email": f"{subject}@example.com",
        "iss": LEGACY.issuer,
        "iat": issued.timestamp(),
        "exp": issued + timedelta(hours=1),
    }
    claims.update(changes)
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.fixture
def verifier(jwks: JwksKeys) -> TokenVerifier:
    return TokenVerifier(jwks, legacy=LEGACY)


async def test_an_auth_token_names_its_user_email_issuer_and_id(
    verifier: TokenVerifier, signing_key: SigningKey
) -> None:
    verified = await verifier.verify(valid_auth_token(signing_key, "user-1", "ada@example.com"))

    assert verified.subject == "user-1"
    assert verified.email == "ada@example.com"
    assert verified.issuer == AUTH_ISSUER
    assert verified.token_id
    assert verified.issued_at <= datetime.now(UTC) < verified.expires_at


async def test_a_monolith_token_is_accepted_while_the_bridge_lasts(
    verifier: TokenVerifier,
) -> None:
    verified = await verifier.verify(legacy_token("user-2"))

    assert (verified.subject, verified.issuer, verified.token_id) == (
        "user-2",
        "legacy-monolith",
        None,
    )


@pytest.mark.parametrize("attack", sorted(REASONS))
async def test_a_forged_or_broken_auth_token_is_refused_with_its_reason(
    verifier: TokenVerifier, signing_key: SigningKey, attack: str
) -> None:
    token = attacks(signing_key, "user-1")[attack]

    with pytest.raises(TokenRefused) as refused:
        await verifier.verify(token)

    expected = REASONS[attack]
    if attack == "hs256-with-public-key":
        # The monolith's HS256 is trusted here, so the forgery is checked with the monolith's
        # secret — never with the public key it was signed with — and fails there.
        expected = "bad-signature"
    assert refused.value.reason == expected


async def test_hs256_signed_with_the_public_key_is_refused_where_only_auth_is_trusted(
    jwks: JwksKeys, signing_key: SigningKey
) -> None:
    token = attacks(signing_key, "user-1")["hs256-with-public-key"]

    with pytest.raises(TokenRefused) as refused:
        await TokenVerifier(jwks).verify(token)

    assert refused.value.reason == "algorithm-not-allowed"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (legacy_token("user-3", secret="another-secret-" + "y" * 32), "bad-signature"),
        (legacy_token("user-3", iss="someone-else"), "wrong-issuer"),
        (legacy_token("user-3", exp=datetime.now(UTC) - timedelta(hours=1)), "expired"),
        (legacy_token("user-3", iat="1733000000"), "bad-issued-at"),
        (legacy_token("user-3", sub=""), "bad-subject"),
    ],
    ids=["wrong-secret", "wrong-issuer", "expired", "iat-a-string", "empty-subject"],
)
async def test_a_broken_monolith_token_is_refused_with_its_reason(
    verifier: TokenVerifier, token: str, reason: str
) -> None:
    with pytest.raises(TokenRefused) as refused:
        await verifier.verify(token)

    assert refused.value.reason == reason


async def test_a_monolith_token_is_refused_once_the_bridge_is_closed(jwks: JwksKeys) -> None:
    with pytest.raises(TokenRefused) as refused:
        await TokenVerifier(jwks).verify(legacy_token("user-4"))

    assert refused.value.reason == "algorithm-not-allowed"


async def test_an_auth_token_is_refused_where_only_the_monolith_is_trusted(
    signing_key: SigningKey,
) -> None:
    with pytest.raises(TokenRefused) as refused:
        await TokenVerifier(legacy=LEGACY).verify(valid_auth_token(signing_key, "user-5"))

    assert refused.value.reason == "algorithm-not-allowed"


async def test_a_token_for_another_audience_is_refused_even_with_a_published_key(
    jwks: JwksKeys, signing_key: SigningKey
) -> None:
    verifier = TokenVerifier(jwks, audience="another-system")

    with pytest.raises(TokenRefused) as refused:
        await verifier.verify(valid_auth_token(signing_key, "user-6"))

    assert refused.value.reason == "wrong-audience"


async def test_an_oversized_token_is_refused_before_it_is_parsed(verifier: TokenVerifier) -> None:
    with pytest.raises(TokenRefused) as refused:
        await verifier.verify("e" * 100_000)

    assert refused.value.reason == "malformed"
