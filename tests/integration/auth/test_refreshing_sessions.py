"""Refresh tokens: each used once, rotated on use; a reuse ends the session, as logout does."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.auth_api import assert_problem, sign_up

pytestmark = pytest.mark.integration


async def _refresh(auth: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await auth.post("/api/auth/refresh", json={"refresh_token": refresh_token})


async def test_a_refresh_gives_a_new_access_token_and_the_next_refresh_token(
    auth: httpx.AsyncClient,
) -> None:
    account = await sign_up(auth, "refresh")

    refreshed = await _refresh(auth, account.refresh_token)
    tokens = refreshed.json()
    me = await auth.get(
        "/api/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    then = await _refresh(auth, tokens["refresh_token"])

    assert refreshed.status_code == 200
    assert tokens["refresh_token"] != account.refresh_token
    assert tokens["access_token"] != account.access_token
    assert me.json()["id"] == account.id
    assert then.status_code == 200


async def test_a_refresh_token_used_twice_revokes_its_whole_session(
    auth: httpx.AsyncClient,
) -> None:
    account = await sign_up(auth, "reuse")
    rightful = (await _refresh(auth, account.refresh_token)).json()

    replayed = await _refresh(auth, account.refresh_token)
    rightful_next = await _refresh(auth, rightful["refresh_token"])
    rightful_access = await auth.get(
        "/api/users/me", headers={"Authorization": f"Bearer {rightful['access_token']}"}
    )
    other_session = await sign_up(auth, "other")
    other_me = await auth.get("/api/users/me", headers=other_session.auth)

    assert "used before" in assert_problem(replayed, 401, "invalid-refresh-token")["detail"]
    assert_problem(rightful_next, 401, "invalid-refresh-token")
    assert_problem(rightful_access, 401, "unauthenticated")
    assert other_me.status_code == 200


async def test_logout_ends_the_session_and_its_access_token(auth: httpx.AsyncClient) -> None:
    account = await sign_up(auth, "logout")

    logged_out = await auth.post("/api/auth/logout", json={"refresh_token": account.refresh_token})
    me = await auth.get("/api/users/me", headers=account.auth)
    refreshed = await _refresh(auth, account.refresh_token)

    assert logged_out.status_code == 204
    assert assert_problem(me, 401, "unauthenticated")["detail"] == (
        "The session of this token was ended; log in again."
    )
    assert_problem(refreshed, 401, "invalid-refresh-token")


async def test_logging_out_one_session_keeps_the_others(auth: httpx.AsyncClient) -> None:
    account = await sign_up(auth, "two-sessions")
    second = await auth.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )

    await auth.post("/api/auth/logout", json={"refresh_token": account.refresh_token})
    me = await auth.get(
        "/api/users/me", headers={"Authorization": f"Bearer {second.json()['access_token']}"}
    )

    assert me.status_code == 200


@pytest.mark.parametrize("token", ["not-a-token-auth-issued", "\u202e\x01", "x" * 200])
async def test_an_unknown_refresh_token_is_refused(auth: httpx.AsyncClient, token: str) -> None:
    refreshed = await _refresh(auth, token)
    logged_out = await auth.post("/api/auth/logout", json={"refresh_token": token})

    assert_problem(refreshed, 401, "invalid-refresh-token")
    assert_problem(logged_out, 401, "invalid-refresh-token")


async def test_two_refreshes_racing_with_one_token_never_both_get_a_session(
    auth: httpx.AsyncClient,
) -> None:
    account = await sign_up(auth, "race")

    answers = await asyncio.gather(*(_refresh(auth, account.refresh_token) for _ in range(4)))
    winners = [answer.json() for answer in answers if answer.status_code == 200]
    winner_next = [await _refresh(auth, winner["refresh_token"]) for winner in winners]

    assert len(winners) <= 1
    assert all(answer.status_code in {200, 401} for answer in answers)
    assert all(answer.status_code == 401 for answer in winner_next)
