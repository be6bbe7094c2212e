"""The rollback watch: a verdict when the new side's errors or p99 cross the policy."""

from __future__ import annotations

import math
import random

from strangler_gateway.rollback import RollbackPolicy, RollbackWatch


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


POLICY = RollbackPolicy(window_seconds=10, min_calls=10, max_error_rate=0.2, max_p99_seconds=1)


def test_too_few_calls_never_trigger_a_rollback() -> None:
    watch = RollbackWatch(FakeClock())

    verdicts = [watch.record("billing", POLICY, False, 0.01) for _ in range(9)]

    assert verdicts == [None] * 9


def test_an_error_rate_over_the_policy_triggers_one_verdict_with_its_figures() -> None:
    watch = RollbackWatch(FakeClock())
    for _ in range(7):
        assert watch.record("billing", POLICY, True, 0.01) is None
    assert watch.record("billing", POLICY, False, 0.01) is None
    assert watch.record("billing", POLICY, False, 0.01) is None

    verdict = watch.record("billing", POLICY, False, 0.01)

    assert verdict is not None
    assert (verdict.route, verdict.calls, verdict.error_rate) == ("billing", 10, 0.3)
    assert "error rate 30%" in verdict.reason
    assert watch.record("billing", POLICY, False, 0.01) is None


def test_a_slow_p99_triggers_a_verdict_even_without_errors() -> None:
    watch = RollbackWatch(FakeClock())
    for _ in range(9):
        watch.record("users", POLICY, True, 0.01)

    verdict = watch.record("users", POLICY, True, 3.0)

    assert verdict is not None
    assert verdict.p99_seconds == 3.0


def test_calls_older_than_the_window_no_longer_count() -> None:
    clock = FakeClock()
    watch = RollbackWatch(clock)
    for _ in range(9):
        watch.record("billing", POLICY, False, 0.01)

    clock.now += 11

    assert watch.record("billing", POLICY, False, 0.01) is None


def test_routes_are_judged_separately() -> None:
    watch = RollbackWatch(FakeClock())
    for _ in range(5):
        watch.record("billing", POLICY, False, 0.01)
        watch.record("users", POLICY, False, 0.01)

    assert watch.record("billing", POLICY, True, 0.01) is None


def test_each_route_is_judged_by_its_own_thresholds() -> None:
    strict = RollbackPolicy(window_seconds=10, min_calls=10, max_error_rate=0.05, max_p99_seconds=1)
    watch = RollbackWatch(FakeClock())
    for _ in range(9):
        watch.record("billing", strict, True, 0.01)
        watch.record("users", POLICY, True, 0.01)

    billing = watch.record("billing", strict, False, 0.01)
    users = watch.record("users", POLICY, False, 0.01)

    assert users is None
    assert billing is not None
    assert "error rate 10% (limit 5%)" in billing.reason


def _judged_over_the_whole_window(
    calls: list[tuple[float, bool, float]], policy: RollbackPolicy
) -> tuple[int, float, float] | None:
    """The verdict's figures as a reader would work them out from the window's calls."""
    count = len(calls)
    if count < policy.min_calls:
        return None
    durations = sorted(seconds for _, _, seconds in calls)
    p99 = durations[min(count - 1, math.ceil(0.99 * count) - 1)]
    error_rate = sum(1 for _, ok, _ in calls if not ok) / count
    if error_rate <= policy.max_error_rate and p99 <= policy.max_p99_seconds:
        return None
    return count, error_rate, p99


def test_verdicts_are_those_of_the_whole_window_judged_afresh_on_every_call() -> None:
    """The watch counts as calls come and go; its verdicts must be exactly those of sorting
    the window each time, over thousands of calls of mixed speed and outcome, with a p99
    right at the limit and some calls exactly on it."""
    policy = RollbackPolicy(window_seconds=5, min_calls=150, max_error_rate=0.05,
                            max_p99_seconds=0.5)  # fmt: skip
    clock = FakeClock()
    watch = RollbackWatch(clock)
    rng = random.Random(12)
    window: list[tuple[float, bool, float]] = []
    verdicts = 0
    for _ in range(20_000):
        clock.now += rng.expovariate(100)
        ok = rng.random() > 0.03
        seconds = rng.choice([0.01, 0.2, 0.5, 0.5, 0.51, 2.0]) if rng.random() < 0.02 else 0.05
        window = [c for c in window if c[0] >= clock.now - policy.window_seconds]
        window.append((clock.now, ok, seconds))
        expected = _judged_over_the_whole_window(window, policy)

        verdict = watch.record("billing", policy, ok, seconds)

        if expected is None:
            assert verdict is None
        else:
            assert verdict is not None
            assert (verdict.calls, verdict.error_rate, verdict.p99_seconds) == expected
            window = []
            verdicts += 1
    assert verdicts > 10  # both kinds of verdict, many times: the comparison means something
