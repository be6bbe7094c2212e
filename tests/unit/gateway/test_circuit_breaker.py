"""The circuit breaker: opens after consecutive failures, lets one trial through later."""

from __future__ import annotations

from strangler_gateway.breaker import BreakerState, CircuitBreaker


def _state(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_consecutive_failures_open_the_circuit_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown_seconds=5, clock=FakeClock())

    breaker.failed()
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    breaker.failed()
    assert _state(breaker) is BreakerState.CLOSED

    breaker.failed()
    assert _state(breaker) is BreakerState.OPEN
    assert not breaker.allow()


def test_after_the_cooldown_one_trial_goes_through_and_its_success_closes_the_circuit() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooldown_seconds=5, clock=clock)
    breaker.failed()

    clock.now += 5
    assert _state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()

    breaker.succeeded()
    assert _state(breaker) is BreakerState.CLOSED
    assert breaker.allow()


def test_a_failed_trial_opens_the_circuit_for_another_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooldown_seconds=5, clock=clock)
    breaker.failed()
    clock.now += 5
    assert breaker.allow()

    breaker.failed()

    assert _state(breaker) is BreakerState.OPEN
    clock.now += 4.9
    assert not breaker.allow()


def test_an_abandoned_trial_lets_the_next_one_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooldown_seconds=5, clock=clock)
    breaker.failed()
    clock.now += 5
    assert breaker.allow()

    breaker.abandoned()

    assert breaker.allow()
