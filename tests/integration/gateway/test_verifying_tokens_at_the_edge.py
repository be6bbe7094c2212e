"""The gateway verifies the caller at the edge: against a real JWKS served over HTTP, and the
monolith's secret while the session bridge lasts. A route that needs a user gets one, proven,
or the gateway's own 401; upstreams are told who the verified caller is in a header no client
can forge; the canary bucket is the verified subject's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from pydantic import SecretStr
from strangler_flags import bucket_of
from strangler_gateway import InMemoryFlagStore, Mode, RouteFlag
from strangler_tokens import SigningKey

from tests.support.jwks_server import PublishedJwks
from tests.support.token_forgery import REASONS, attacks, valid_auth_token

from .conftest import GatewayFactory, dead_url

LEGACY_SECRET = "monolith-secret-for-the-edge-with-32-bytes"
FORGED_HEADER = {"X-Strangler-Verified-User": "admin"}


def verifying(jwks: PublishedJwks, **more: Any) -> dict[str, Any]:
    """The settings `strangler up` gives the gateway: auth's JWKS and the monolith's secret."""
    return {
        "auth_jwks_url": jwks.url,
        "legacy_jwt_secret": SecretStr(LEGACY_SECRET),
        **more,
    }


def bearer(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


def monolith_token(subject: str) -> str:
    issued = datetime.now(UTC)
    claims = {
        "sub": subject,
        "email": f"{subject}@example.com",
        "iss": "legacy-monolith",
        "iat": issued.timestamp(),
        "exp": issued + timedelta(hours=1),
    }
    return jwt.encode(claims, LEGACY_SECRET, algorithm="HS256")


def seen_header(answer: Any, name: str) -> list[str]:
    return [value for key, value in answer.json()["headers"] if key == name]


async def test_an_upstream_is_told_the_verified_subject_and_never_the_client_s_claim(
    gateway: GatewayFactory, jwks: PublishedJwks, signing_key: SigningKey
) -> None:
    async with gateway(**verifying(jwks)) as client:
        from_auth = await client.get(
            "/api/billing/invoices", headers=bearer(valid_auth_token(signing_key, "user-7"))
        )
        from_monolith = await client.get(
            "/api/users/me", headers=bearer(monolith_token("user-8"), **FORGED_HEADER)
        )

    assert from_auth.status_code == 200, from_auth.text
    assert seen_header(from_auth, "x-strangler-verified-user") == ["user-7"]
    assert from_monolith.status_code == 200, from_monolith.text
    assert seen_header(from_monolith, "x-strangler-verified-user") == ["user-8"]


async def test_public_operations_need_no_token_and_forward_no_forged_identity(
    gateway: GatewayFactory, jwks: PublishedJwks
) -> None:
    async with gateway(**verifying(jwks)) as client:
        answers = [
            await client.post("/api/users", json={}, headers=FORGED_HEADER),
            await client.post("/api/auth/login", json={}, headers=FORGED_HEADER),
            await client.post("/api/auth/refresh", json={}),
            await client.post("/api/auth/logout", json={}),
            await client.get("/api/billing/plans", headers=bearer("not-a-token")),
        ]

    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json()["side"] == "legacy"
        assert seen_header(answer, "x-strangler-verified-user") == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/users/me"),
        ("POST", "/api/users/me/password"),
        ("GET", "/api/billing/invoices"),
        ("POST", "/api/billing/checkout"),
        ("GET", "/api/notifications"),
        ("GET", "/api/auth/login"),
        ("POST", "/api/users/"),
    ],
)
async def test_an_operation_that_needs_a_user_without_a_token_is_the_gateway_s_401(
    gateway: GatewayFactory, jwks: PublishedJwks, method: str, path: str
) -> None:
    async with gateway(**verifying(jwks)) as client:
        answer = await client.request(method, path, headers=FORGED_HEADER)

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.headers["x-strangler-target"] == "-"
    assert answer.json()["type"].endswith("/unauthenticated")


async def test_every_forged_or_broken_token_is_refused_at_the_edge_and_counted(
    gateway: GatewayFactory, jwks: PublishedJwks, signing_key: SigningKey
) -> None:
    forged = attacks(signing_key, "user-1")

    async with gateway(**verifying(jwks)) as client:
        answers = {
            attack: await client.get("/api/billing/invoices", headers=bearer(token))
            for attack, token in forged.items()
        }
        metrics = (await client.operator.get("/metrics")).text

    for attack, answer in answers.items():
        assert answer.status_code == 401, (attack, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", attack
        assert answer.headers["www-authenticate"] == "Bearer", attack
        assert answer.json()["type"].endswith("/unauthenticated"), attack
        assert "side" not in answer.json(), attack
    for reason in {REASONS[attack] for attack in forged} - {"algorithm-not-allowed"}:
        assert f'reason="{reason}",route="billing"' in metrics, reason


async def test_a_key_published_after_the_gateway_fetched_is_fetched_on_its_first_token(
    gateway: GatewayFactory, jwks: PublishedJwks, signing_key: SigningKey
) -> None:
    async with gateway(**verifying(jwks, jwks_min_refetch_seconds=0.001)) as client:
        before = await client.get(
            "/api/users/me", headers=bearer(valid_auth_token(signing_key, "user-1"))
        )
        rotated = SigningKey.generate()
        jwks.keys.append(rotated)
        after = await client.get(
            "/api/users/me", headers=bearer(valid_auth_token(rotated, "user-1"))
        )

    assert (before.status_code, after.status_code) == (200, 200)
    assert jwks.fetches == 2


async def test_made_up_key_ids_do_not_make_the_gateway_hammer_the_jwks(
    gateway: GatewayFactory, jwks: PublishedJwks, signing_key: SigningKey
) -> None:
    async with gateway(**verifying(jwks, jwks_min_refetch_seconds=600)) as client:
        good = await client.get(
            "/api/users/me", headers=bearer(valid_auth_token(signing_key, "user-1"))
        )
        refused = [
            (
                await client.get(
                    "/api/users/me",
                    headers=bearer(valid_auth_token(SigningKey.generate(), "user-1")),
                )
            ).status_code
            for _ in range(20)
        ]

    assert good.status_code == 200
    assert refused == [401] * 20
    assert jwks.fetches == 1


async def test_the_canary_bucket_is_the_verified_subject_not_the_cookie(
    gateway: GatewayFactory, jwks: PublishedJwks, signing_key: SigningKey, flags: InMemoryFlagStore
) -> None:
    await flags.set_flag("billing", RouteFlag(mode=Mode.CANARY, percent=30), who="t", reason="")
    inside = next(f"user-{n}" for n in range(10_000) if bucket_of(f"user-{n}") < 30)
    outside = next(f"user-{n}" for n in range(10_000) if bucket_of(f"user-{n}") >= 30)

    async with gateway(**verifying(jwks)) as client:
        sides = {
            subject: (
                await client.get(
                    "/api/billing/invoices",
                    headers=bearer(
                        valid_auth_token(signing_key, subject),
                        Cookie=f"strangler_uid={other}",
                    ),
                )
            ).json()["side"]
            for subject, other in ((inside, outside), (outside, inside))
        }

    assert sides == {inside: "new", outside: "legacy"}


async def test_keys_that_cannot_be_fetched_are_a_503_to_retry_not_a_401(
    gateway: GatewayFactory, signing_key: SigningKey
) -> None:
    jwks_url = dead_url() + "/.well-known/jwks.json"

    async with gateway(auth_jwks_url=jwks_url) as client:
        answer = await client.get(
            "/api/users/me", headers=bearer(valid_auth_token(signing_key, "user-1"))
        )

    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "10"


async def test_without_keys_the_gateway_forwards_as_before_but_still_drops_the_forgery(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        answer = await client.get("/api/billing/invoices", headers=FORGED_HEADER)

    assert answer.status_code == 200
    assert seen_header(answer, "x-strangler-verified-user") == []
