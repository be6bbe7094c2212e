"""Login throttling: too many failures for one account, or from one client address, and
logins for it are refused with 429 and Retry-After until the window ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from auth_service.entrypoints.app import create_app

from tests.integration.auth.conftest import BASE_URL, MovableClock, SettingsFactory
from tests.support.asgi import started
from tests.support.auth_api import FAST_PASSWORDS, assert_problem, log_in, sign_up, unique_email

pytestmark = pytest.mark.integration

ACCOUNT_LIMIT = 3
ADDRESS_LIMIT = 5
WINDOW_SECONDS = 600


@pytest.fixture
async def throttled(
    auth_settings: SettingsFactory, clock: MovableClock
) -> AsyncIterator[httpx.AsyncClient]:
    settings = auth_settings(
        login_account_failures=ACCOUNT_LIMIT,
        login_address_failures=ADDRESS_LIMIT,
        login_window_seconds=WINDOW_SECONDS,
    )
    async with started(
        create_app(settings, passwords=FAST_PASSWORDS, clock=clock), BASE_URL
    ) as client:
        yield client


def _from(address: str) -> dict[str, str]:
    """As the gateway forwards it: the client's address appended to X-Forwarded-For."""
    return {"X-Forwarded-For": f"203.0.113.250, {address}"}


async def test_an_account_is_locked_after_its_failures_even_for_the_right_password(
    throttled: httpx.AsyncClient,
) -> None:
    account = await sign_up(throttled, "locked")
    failures = [
        await log_in(throttled, account.email, "wrong-password", **_from(f"198.51.100.{n}"))
        for n in range(ACCOUNT_LIMIT)
    ]

    locked = await log_in(throttled, account.email, **_from("198.51.100.99"))

    assert [failure.status_code for failure in failures] == [401] * ACCOUNT_LIMIT
    document = assert_problem(locked, 429, "login-throttled")
    assert document["title"] == "Too many failed logins"
    assert 0 < int(locked.headers["retry-after"]) <= WINDOW_SECONDS


async def test_a_lock_ends_with_its_window(
    throttled: httpx.AsyncClient, clock: MovableClock
) -> None:
    account = await sign_up(throttled, "unlocked")
    for _ in range(ACCOUNT_LIMIT):
        await log_in(throttled, account.email, "wrong-password")

    locked = await log_in(throttled, account.email, "wrong-password")
    clock.move(by=timedelta(seconds=WINDOW_SECONDS + 1))
    heard_again = await log_in(throttled, account.email, "wrong-password")

    assert_problem(locked, 429, "login-throttled")
    assert_problem(heard_again, 401, "invalid-credentials")


async def test_an_address_is_locked_after_failures_across_accounts(
    throttled: httpx.AsyncClient,
) -> None:
    account = await sign_up(throttled, "victim")
    for _ in range(ADDRESS_LIMIT):
        await log_in(throttled, unique_email("guess"), "wrong-password", **_from("192.0.2.7"))

    from_there = await log_in(throttled, account.email, **_from("192.0.2.7"))
    from_elsewhere = await log_in(throttled, account.email, **_from("192.0.2.8"))

    assert_problem(from_there, 429, "login-throttled")
    assert from_elsewhere.status_code == 200


async def test_a_successful_login_clears_its_account_s_count(throttled: httpx.AsyncClient) -> None:
    account = await sign_up(throttled, "cleared")
    for _ in range(ACCOUNT_LIMIT - 1):
        await log_in(throttled, account.email, "wrong-password", **_from("192.0.2.20"))
    await log_in(throttled, account.email, **_from("192.0.2.21"))
    for _ in range(ACCOUNT_LIMIT - 1):
        await log_in(throttled, account.email, "wrong-password", **_from("192.0.2.22"))

    still_open = await log_in(throttled, account.email, **_from("192.0.2.23"))

    assert still_open.status_code == 200


async def test_unknown_addresses_are_throttled_like_known_ones(
    throttled: httpx.AsyncClient,
) -> None:
    nobody = unique_email("nobody")
    for n in range(ACCOUNT_LIMIT):
        await log_in(throttled, nobody, "wrong-password", **_from(f"192.0.2.{30 + n}"))

    answer = await log_in(throttled, nobody, "wrong-password", **_from("192.0.2.40"))

    assert_problem(answer, 429, "login-throttled")
