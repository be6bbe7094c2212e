"""Key rotation without logging anyone out: the next key is published before it signs, and
the old one stays published until the last token it signed has expired."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import pytest

from tests.integration.auth.conftest import MovableClock
from tests.support.auth_api import sign_up
from tests.support.operator import OPERATOR_HEADERS

pytestmark = pytest.mark.integration

ROTATE = "/internal/auth/keys/rotate"


def _kid(token: str) -> str:
    segment = token.split(".")[0]
    header: dict[str, str] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return header["kid"]


async def _published(auth: httpx.AsyncClient) -> set[str]:
    return {key["kid"] for key in (await auth.get("/.well-known/jwks.json")).json()["keys"]}


async def test_a_rotation_signs_with_the_key_published_before_it(
    auth: httpx.AsyncClient,
) -> None:
    before = await sign_up(auth, "before")
    published_before = await _published(auth)

    rotation = await auth.post(ROTATE, headers=OPERATOR_HEADERS)
    after = await sign_up(auth, "after")
    published_after = await _published(auth)
    old_token_still = await auth.get("/api/users/me", headers=before.auth)

    assert rotation.status_code == 200, rotation.text
    answer = rotation.json()
    assert _kid(after.access_token) == answer["signing"]
    assert answer["signing"] in published_before
    assert _kid(before.access_token) in answer["retired"]
    assert {answer["signing"], answer["next"], _kid(before.access_token)} == published_after
    assert old_token_still.status_code == 200


async def test_a_retired_key_leaves_the_key_set_once_its_tokens_expired(
    auth: httpx.AsyncClient, clock: MovableClock
) -> None:
    first = (await auth.post(ROTATE, headers=OPERATOR_HEADERS)).json()
    retired = first["retired"][0]

    clock.move(by=timedelta(minutes=14))
    still = await _published(auth)
    clock.move(by=timedelta(minutes=2))
    later = await _published(auth)

    assert retired in still
    assert retired not in later
    assert {first["signing"], first["next"]} <= later


async def test_rotating_needs_the_operator_token(auth: httpx.AsyncClient) -> None:
    anonymous = await auth.post(ROTATE)
    wrong = await auth.post(ROTATE, headers={"Authorization": "Bearer not-the-operator-token"})

    assert anonymous.status_code == 401
    assert wrong.status_code == 403
