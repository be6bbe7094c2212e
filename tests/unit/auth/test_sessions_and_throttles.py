"""A refresh token is used once; a login throttle counts failures in a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from auth_service.domain.sessions import Redemption, RefreshToken
from auth_service.domain.throttling import LoginThrottle
from auth_service.domain.users import User

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def _token() -> RefreshToken:
    return RefreshToken(
        token_hash="h", family_id="f", user_id="u", access_token_id="j", issued_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )  # fmt: skip


def test_a_refresh_token_is_accepted_once_then_reported_reused() -> None:
    token = _token()

    assert token.redeem(NOW) is Redemption.ACCEPTED
    assert token.redeem(NOW) is Redemption.REUSED


@pytest.mark.parametrize(
    ("revoked", "at", "expected"),
    [
        (True, NOW, Redemption.REVOKED),
        (False, NOW + timedelta(days=1), Redemption.EXPIRED),
    ],
)
def test_a_revoked_or_expired_refresh_token_is_refused(
    revoked: bool, at: datetime, expected: Redemption
) -> None:
    token = _token()
    if revoked:
        token.revoked_at = NOW

    assert token.redeem(at) is expected
    assert token.used_at is None


def test_a_throttle_locks_at_its_limit_until_the_window_ends() -> None:
    throttle = LoginThrottle(key="account:a", now=NOW)
    for _ in range(3):
        throttle.failed(NOW, WINDOW)

    assert throttle.retry_after(NOW + timedelta(minutes=5), 3, WINDOW) == 600
    assert throttle.retry_after(NOW + WINDOW, 3, WINDOW) is None
    assert throttle.retry_after(NOW, 4, WINDOW) is None


def test_a_failure_after_the_window_starts_a_new_count() -> None:
    throttle = LoginThrottle(key="address:192.0.2.1", now=NOW)
    for _ in range(3):
        throttle.failed(NOW, WINDOW)

    throttle.failed(NOW + WINDOW, WINDOW)

    assert throttle.failures == 1
    assert throttle.retry_after(NOW + WINDOW, 2, WINDOW) is None


def test_a_hash_upgrade_keeps_the_tokens_a_password_change_refuses() -> None:
    user = User(id="u", email="a@example.com", email_key="a@example.com", name="A",
                password_hash="pbkdf2", now=NOW)  # fmt: skip
    issued = NOW + timedelta(minutes=1)

    user.upgrade_password_hash("argon2", NOW + timedelta(minutes=2))
    kept = user.accepts_token_issued_at(issued)
    user.change_password("argon2-new", NOW + timedelta(minutes=3))

    assert kept
    assert not user.accepts_token_issued_at(issued)
    assert user.accepts_token_issued_at(NOW + timedelta(minutes=3))
