"""Register, log in, read the current user, change the password: the monolith's contract,
answered by the auth service on its own database."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.support.auth_api import PASSWORD, assert_problem, log_in, sign_up, unique_email

pytestmark = pytest.mark.integration


def _header(token: str) -> dict[str, str]:
    segment = token.split(".")[0]
    decoded: dict[str, str] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


async def test_a_registered_user_logs_in_and_reads_their_account(auth: httpx.AsyncClient) -> None:
    email = unique_email("ada")

    registered = await auth.post(
        "/api/users", json={"email": email.upper(), "password": PASSWORD, "name": " Ada "}
    )
    logged_in = await log_in(auth, email)
    token = logged_in.json()["access_token"]
    me = await auth.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert registered.status_code == 201
    assert registered.headers["location"] == "/api/users/me"
    assert registered.json()["email"] == email
    assert registered.json()["name"] == "Ada"
    assert logged_in.status_code == 200
    assert logged_in.json()["token_type"] == "bearer"
    assert logged_in.json()["expires_in"] == 900
    assert me.status_code == 200
    assert me.json() == registered.json()


async def test_access_tokens_are_eddsa_signed_by_a_published_key(auth: httpx.AsyncClient) -> None:
    account = await sign_up(auth, "kid")

    header = _header(account.access_token)
    jwks = await auth.get("/.well-known/jwks.json")

    assert header["alg"] == "EdDSA"
    assert header["typ"] == "JWT"
    assert header["kid"] in {key["kid"] for key in jwks.json()["keys"]}
    assert jwks.headers["cache-control"] == "public, max-age=300"
    for key in jwks.json()["keys"]:
        assert key["kty"] == "OKP"
        assert key["crv"] == "Ed25519"
        assert "d" not in key


async def test_a_look_alike_address_is_a_duplicate(auth: httpx.AsyncClient) -> None:
    account = await sign_up(auth, "dup")

    again = await auth.post(
        "/api/users",
        json={"email": account.email.upper(), "password": PASSWORD, "name": "Other"},
    )

    document = assert_problem(again, 409, "duplicate-email")
    assert document["title"] == "E-mail already registered"


async def test_an_unknown_address_and_a_wrong_password_get_the_same_answer(
    auth: httpx.AsyncClient,
) -> None:
    account = await sign_up(auth, "enum")

    unknown = await log_in(auth, unique_email("nobody"), "whatever-password")
    wrong = await log_in(auth, account.email, "whatever-password")

    assert_problem(unknown, 401, "invalid-credentials")
    assert unknown.json() == wrong.json()
    assert unknown.headers["www-authenticate"] == wrong.headers["www-authenticate"] == "Bearer"


async def test_a_password_change_refuses_the_tokens_issued_before_it(
    auth: httpx.AsyncClient,
) -> None:
    account = await sign_up(auth, "change")

    changed = await auth.post(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
        headers=account.auth,
    )
    old_token = await auth.get("/api/users/me", headers=account.auth)
    old_password = await log_in(auth, account.email)
    new_login = await log_in(auth, account.email, "a-brand-new-password")
    refreshed = await auth.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})

    assert changed.status_code == 204
    assert assert_problem(old_token, 401, "unauthenticated")["detail"] == (
        "The password changed after this token was issued; log in again."
    )
    assert_problem(old_password, 401, "invalid-credentials")
    assert new_login.status_code == 200
    assert_problem(refreshed, 401, "invalid-refresh-token")


async def test_a_wrong_current_password_changes_nothing(auth: httpx.AsyncClient) -> None:
    account = await sign_up(auth, "wrongpw")

    refused = await auth.post(
        "/api/users/me/password",
        json={"current_password": "not-the-password", "new_password": "a-brand-new-password"},
        headers=account.auth,
    )
    still = await auth.get("/api/users/me", headers=account.auth)

    assert_problem(refused, 403, "wrong-password")
    assert still.status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Ada\nLovelace"),
        ("name", "Ada\u202eecalevol"),
        ("name", "Ada\x00"),
        ("email", "ada\u200b@example.com"),
        ("email", "p\u0430ypal@example.com"),
        ("password", "short"),
    ],
)
async def test_unprintable_or_confusable_text_is_refused_naming_the_field(
    auth: httpx.AsyncClient, field: str, value: str
) -> None:
    body = {"email": unique_email("text"), "password": PASSWORD, "name": "Ada", field: value}

    refused = await auth.post("/api/users", json=body)

    assert refused.status_code in {400, 422}, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    if refused.status_code == 422:
        assert field in refused.text


async def test_unicode_names_and_passwords_round_trip(auth: httpx.AsyncClient) -> None:
    email = unique_email("josé")
    password = "pässwörd-密码-🔑"

    registered = await auth.post(
        "/api/users", json={"email": email, "password": password, "name": "José Ñandú 山田"}
    )
    logged_in = await log_in(auth, email, password)

    assert registered.status_code == 201, registered.text
    assert registered.json()["name"] == "José Ñandú 山田"
    assert logged_in.status_code == 200


@pytest.mark.parametrize(
    "email", ["\x00", "a\u0000b@example.com", "\u2028", "a@b", "x" * 320, "😀@😀.😀"]
)
async def test_odd_login_input_is_a_401_or_a_422_never_a_500(
    auth: httpx.AsyncClient, email: str
) -> None:
    answer = await log_in(auth, email, "\u202e\x07password")

    assert answer.status_code in {400, 401, 422}, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
