"""Stickiness: a user keeps one bucket, and ramping up only ever moves users to new."""

from __future__ import annotations

from strangler_flags import Mode, RequestFacts, RouteFlag, Target, bucket_of, decide

USERS = [f"user-{n:05d}" for n in range(10_000)]


def _on_new(percent: int) -> set[str]:
    flag = RouteFlag(mode=Mode.CANARY, percent=percent)
    return {
        user
        for user in USERS
        if decide(flag, False, RequestFacts(user_key=user)).target is Target.NEW
    }


def test_a_users_bucket_is_stable_and_within_range() -> None:
    first = [bucket_of(user) for user in USERS]
    again = [bucket_of(user) for user in USERS]

    assert first == again
    assert all(0 <= bucket < 100 for bucket in first)


def test_ramping_ten_to_thirty_percent_only_moves_users_from_legacy_to_new() -> None:
    at_10, at_30, at_50 = _on_new(10), _on_new(30), _on_new(50)

    assert at_10 <= at_30 <= at_50
    assert at_10 < at_30


def test_about_thirty_percent_of_users_land_on_new_at_thirty_percent() -> None:
    share = len(_on_new(30)) / len(USERS)

    assert 0.28 <= share <= 0.32
