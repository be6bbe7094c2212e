"""Automatic rollback: when the new side misbehaves, its route goes back to legacy by itself.

Pure state, no I/O. The proxy records every call it makes to a route's new side, with the
route's own policy; when, over the sliding window, the error rate or the p99 latency crosses
the policy with enough calls to judge, ``record`` answers a verdict once, and the window
starts afresh.
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
    policy: RollbackPolicy

    @property
    def reason(self) -> str:
        return (
            f"auto-rollback: {self.calls} calls to new in {self.policy.window_seconds:g} s, "
            f"error rate {self.error_rate:.0%} (limit {self.policy.max_error_rate:.0%}), "
            f"p99 {self.p99_seconds * 1000:.0f} ms "
            f"(limit {self.policy.max_p99_seconds * 1000:.0f} ms)"
        )


class RollbackWatch:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, deque[tuple[float, bool, float]]] = {}

    def record(
        self, route: str, policy: RollbackPolicy, ok: bool, seconds: float
    ) -> RollbackVerdict | None:
        now = self._clock()
        calls = self._windows.setdefault(route, deque())
        calls.append((now, ok, seconds))
        horizon = now - policy.window_seconds
        while calls and calls[0][0] < horizon:
            calls.popleft()
        count = len(calls)
        if count < policy.min_calls:
            return None
        errors = sum(1 for _, succeeded, _ in calls if not succeeded)
        durations = sorted(d for _, _, d in calls)
        p99 = durations[min(count - 1, math.ceil(0.99 * count) - 1)]
        error_rate = errors / count
        if error_rate <= policy.max_error_rate and p99 <= policy.max_p99_seconds:
            return None
        calls.clear()
        return RollbackVerdict(route, count, error_rate, p99, policy)
