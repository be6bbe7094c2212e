"""The rollback watch: a verdict when the new side's errors or p99 cross the policy."""

from __future__ import annotations

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
