"""Every forged, stale or mangled bearer token is a 401 problem document at auth, never a 500
and never accepted; the monolith's own tokens are accepted while the routes move."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from auth_service.adapters.orm import signing_keys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from strangler_persistence import create_engine

from tests.integration.auth.conftest import LEGACY_JWT_SECRET
from tests.support.auth_api import Account, assert_problem, sign_up

pytestmark = pytest.mark.integration

ISSUER = "strangler-fig-auth"
AUDIENCE = "strangler-fig"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def _signing_key(database_url: str) -> tuple[str, Ed25519PrivateKey]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(signing_keys.c.kid, signing_keys.c.private_key).where(
                        signing_keys.c.state == "current"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return row.kid, Ed25519PrivateKey.from_private_bytes(_unb64(row.private_key))


def _claims(account: Account, **overrides: Any) -> dict[str, Any]:
    now = time.time()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": account.id,
        "email": account.email,
        "iat": now,
        "nbf": int(now),
        "exp": int(now) + 600,
        "jti": uuid.uuid4().hex,
        **overrides,
    }
    return {name: value for name, value in claims.items() if value is not None}


def _tampered_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["sub"] = str(uuid.uuid4())
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def _tampered_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(_unb64(signature))
    raw[0] ^= 0x01
    return ".".join([header, payload, _b64(bytes(raw))])


def _unsigned(claims: dict[str, Any], kid: str) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), ""])


def _hs256_with_the_public_key(claims: dict[str, Any], kid: str, public_x: str) -> str:
    """The algorithm-confusion forgery: HMAC keyed with the published key's bytes."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode())]
    ).encode()
    signature = hmac.new(_unb64(public_x), signing_input, hashlib.sha256).digest()
    return signing_input.decode() + "." + _b64(signature)


@pytest.fixture
async def forged(auth: httpx.AsyncClient, auth_database: str) -> dict[str, str]:
    account = await sign_up(auth, "attacked")
    kid, key = await _signing_key(auth_database)
    jwks = (await auth.get("/.well-known/jwks.json")).json()["keys"]
    public_x = next(entry["x"] for entry in jwks if entry["kid"] == kid)
    stranger = Ed25519PrivateKey.generate()

    def signed(claims: dict[str, Any], with_key: Any = key, with_kid: str = kid) -> str:
        return jwt.encode(claims, with_key, algorithm="EdDSA", headers={"kid": with_kid})

    now = time.time()
    return {
        "alg none": _unsigned(_claims(account), kid),
        "HS256 signed with the public key": _hs256_with_the_public_key(
            _claims(account), kid, public_x
        ),
        "unknown kid": signed(_claims(account), stranger, "a-kid-nobody-published"),
        "a stranger's key under a published kid": signed(_claims(account), stranger),
        "no kid": jwt.encode(_claims(account), key, algorithm="EdDSA"),
        "expired": signed(
            _claims(account, iat=now - 7200, nbf=int(now) - 7200, exp=int(now) - 3600)
        ),
        "not yet valid": signed(_claims(account, nbf=int(now) + 3600, exp=int(now) + 7200)),
        "wrong issuer": signed(_claims(account, iss="someone-else")),
        "wrong audience": signed(_claims(account, aud="another-system")),
        "no audience": signed(_claims(account, aud=None)),
        "tampered payload": _tampered_payload(account.access_token),
        "tampered signature": _tampered_signature(account.access_token),
        "garbage": "not.a.token",
        "empty segments": "..",
        "unicode garbage": "ä.ö.ü",
        "a number as the subject": signed(_claims(account, sub=12345)),
        "an absurd issue time": signed(_claims(account, iat=1e300)),
        "the monolith's algorithm with a wrong secret": jwt.encode(
            {"sub": account.id, "iss": "legacy-monolith", "iat": now, "exp": int(now) + 60},
            "not-the-monolith-secret-but-long-enough",
            algorithm="HS256",
        ),
    }


@pytest.mark.parametrize(
    "attack",
    [
        "alg none",
        "HS256 signed with the public key",
        "unknown kid",
        "a stranger's key under a published kid",
        "no kid",
        "expired",
        "not yet valid",
        "wrong issuer",
        "wrong audience",
        "no audience",
        "tampered payload",
        "tampered signature",
        "garbage",
        "empty segments",
        "a number as the subject",
        "an absurd issue time",
        "the monolith's algorithm with a wrong secret",
    ],
)
async def test_a_forged_or_stale_token_is_a_401_problem(
    auth: httpx.AsyncClient, forged: dict[str, str], attack: str
) -> None:
    answer = await auth.get("/api/users/me", headers={"Authorization": f"Bearer {forged[attack]}"})

    document = assert_problem(answer, 401, "unauthenticated")
    assert document["detail"].startswith("The access token is not valid: ")
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_a_token_of_the_monolith_is_accepted_until_the_password_changes(
    auth: httpx.AsyncClient,
) -> None:
    account = await sign_up(auth, "bridge")
    legacy = jwt.encode(
        {
            "sub": account.id,
            "email": account.email,
            "iss": "legacy-monolith",
            "iat": time.time(),
            "exp": int(time.time()) + 600,
        },
        LEGACY_JWT_SECRET,
        algorithm="HS256",
    )
    headers = {"Authorization": f"Bearer {legacy}"}

    before = await auth.get("/api/users/me", headers=headers)
    await auth.post(
        "/api/users/me/password",
        json={"current_password": account.password, "new_password": "another-long-password"},
        headers=account.auth,
    )
    after = await auth.get("/api/users/me", headers=headers)

    assert before.status_code == 200
    assert before.json()["id"] == account.id
    assert_problem(after, 401, "unauthenticated")


async def test_a_valid_token_for_a_user_auth_does_not_hold_is_refused(
    auth: httpx.AsyncClient,
) -> None:
    legacy = jwt.encode(
        {"sub": str(uuid.uuid4()), "iss": "legacy-monolith", "iat": time.time(),
         "exp": int(time.time()) + 600},
        LEGACY_JWT_SECRET,
        algorithm="HS256",
    )  # fmt: skip

    answer = await auth.get("/api/users/me", headers={"Authorization": f"Bearer {legacy}"})

    assert assert_problem(answer, 401, "unauthenticated")["detail"] == (
        "The access token names a user that does not exist."
    )
