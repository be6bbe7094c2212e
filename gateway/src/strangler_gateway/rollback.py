"""Automatic rollback: when the new side misbehaves, its route goes back to legacy by itself.

Pure state, no I/O. The proxy records every call it makes to a route's new side; when, over
the sliding window, the error rate or the p99 latency crosses the policy with enough calls
to judge, ``record`` answers a verdict once, and the window starts afresh.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RollbackPolicy", "RollbackVerdict", "RollbackWatch"]


@dataclass(frozen=True, slots=True)
class RollbackPolicy:
    window_seconds: float = 30.0
    min_calls: int = 20
    max_error_rate: float = 0.2
    max_p99_seconds: float = 2.0


@dataclass(frozen=True, slots=True)
class RollbackVerdict:
    route: str
    calls: int
    error_rate: float
    p99_seconds: float

    @property
    def reason(self) -> str:
        return (
            f"auto-rollback: {self.calls} calls to new in the window, "
            f"error rate {self.error_rate:.0%}, p99 {self.p99_seconds * 1000:.0f} ms"
        )


class _Window:
    def __init__(self) -> None:
        self.calls: deque[tuple[float, bool, float]] = deque()


class RollbackWatch:
    def __init__(self, policy: RollbackPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def record(self, route: str, ok: bool, seconds: float) -> RollbackVerdict | None:
        now = self._clock()
        window = self._windows.setdefault(route, _Window())
        window.calls.append((now, ok, seconds))
        horizon = now - self._policy.window_seconds
        while window.calls and window.calls[0][0] < horizon:
            window.calls.popleft()
        count = len(window.calls)
        if count < self._policy.min_calls:
            return None
        errors = sum(1 for _, succeeded, _ in window.calls if not succeeded)
        durations = sorted(d for _, _, d in window.calls)
        p99 = durations[min(count - 1, math.ceil(0.99 * count) - 1)]
        error_rate = errors / count
        if error_rate <= self._policy.max_error_rate and p99 <= self._policy.max_p99_seconds:
            return None
        window.calls.clear()
        return RollbackVerdict(route, count, error_rate, p99)
