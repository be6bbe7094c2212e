"""Shadow traffic: mirror a request to the new side, compare its answer with legacy's.

The user is always served by legacy; the mirror runs in a background task and never delays
or fails the user's request. When too many mirrors are already in flight, new ones are
dropped (and counted) rather than queued, so a slow new service cannot build up memory.

Only safe methods are mirrored unless the route's rules allow writes: a mirrored write makes
the new side act on it too, which is only right when the new side runs against its own
copy of the data (it is told by ``X-Strangler-Shadow: 1``).

**Noise cancelling.** Some fields differ even between two calls to legacy (a clock, a
random token, an order that is not stable). On a sample of mirrored safe requests the
gateway calls legacy a second time and compares legacy with itself; the fields that differ
there are learned as the route's noise and are not counted against the new side. The first
mirrors of a route are always sampled, so noise is learned before it can pollute the rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strangler_persistence import utcnow

from strangler_gateway.comparison import Answer, CompareRules, compare, generalize, lines
from strangler_gateway.metrics import DIFFS, MIRRORS

__all__ = [
    "DEFAULT_IGNORED_FIELDS",
    "MAX_COMPARED_BODY_BYTES",
    "Capture",
    "Difference",
    "RouteShadowStats",
    "Shadow",
    "ShadowRules",
]

logger = logging.getLogger(__name__)

MAX_COMPARED_BODY_BYTES = 256 * 1024
MAX_NOISY_FIELDS = 256
RECENT_DIFFERENCES = 50
DEFAULT_IGNORED_FIELDS = ("**/created_at", "**/updated_at")


@dataclass(frozen=True, slots=True)
class ShadowRules:
    """How one route is shadowed: what is compared, whether writes are mirrored, how often
    legacy is asked twice to learn its noise."""

    compare: CompareRules = field(default_factory=lambda: CompareRules(DEFAULT_IGNORED_FIELDS))
    mirror_writes: bool = False
    noise_sample_rate: float = 0.1
    noise_warmup: int = 10

    def __post_init__(self) -> None:
        if not 0 <= self.noise_sample_rate <= 1:
            raise ValueError(f"noise_sample_rate must be within 0..1, not {self.noise_sample_rate}")


@dataclass(slots=True)
class Capture:
    """One side's answer as it streams by; kept only up to ``MAX_COMPARED_BODY_BYTES``."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    truncated: bool = False

    def add(self, chunk: bytes) -> None:
        if self.truncated:
            return
        if len(self.body) + len(chunk) > MAX_COMPARED_BODY_BYTES:
            self.truncated = True
            self.body.clear()
            return
        self.body.extend(chunk)

    def answer(self) -> Answer:
        return Answer(self.status, self.headers, bytes(self.body), self.truncated)


@dataclass(frozen=True, slots=True)
class Difference:
    at: datetime
    method: str
    target: str
    fields: list[str]


@dataclass(slots=True)
class RouteShadowStats:
    """``differing`` counts answers with a real difference; ``noisy`` those whose every
    difference is a field legacy also shows against itself."""

    mirrored: int = 0
    compared: int = 0
    differing: int = 0
    noisy: int = 0
    dropped: int = 0
    failed: int = 0
    noise_samples: int = 0
    noisy_fields: set[str] = field(default_factory=set)
    recent: deque[Difference] = field(default_factory=lambda: deque(maxlen=RECENT_DIFFERENCES))

    @property
    def diff_rate(self) -> float:
        return self.differing / self.compared if self.compared else 0.0

    def learn_noise(self, paths: list[str]) -> None:
        for path in paths:
            if len(self.noisy_fields) >= MAX_NOISY_FIELDS:
                return
            self.noisy_fields.add(generalize(path))


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    """A mirror nobody awaits (its primary failed) must not log "exception never retrieved"."""
    if not future.cancelled():
        future.exception()


class Shadow:
    """Runs mirrors in the background, bounded, and keeps per-route comparison figures."""

    def __init__(self, max_in_flight: int = 64, rng: random.Random | None = None) -> None:
        self._max_in_flight = max_in_flight
        self._rng = rng or random.Random()  # noqa: S311 - sampling, not secrecy
        self._tasks: set[asyncio.Future[Any]] = set()
        self._calls: set[asyncio.Future[Any]] = set()
        self._stats: dict[str, RouteShadowStats] = {}

    def stats(self, route: str) -> RouteShadowStats:
        return self._stats.setdefault(route, RouteShadowStats())

    def start(
        self, route: str, call_new: Callable[[], Awaitable[Capture]]
    ) -> asyncio.Future[Capture] | None:
        """Start the mirror now; ``None`` when it is dropped because too many are in flight."""
        stats = self.stats(route)
        if len(self._calls) >= self._max_in_flight:
            stats.dropped += 1
            MIRRORS.labels(route, "dropped").inc()
            return None
        stats.mirrored += 1
        MIRRORS.labels(route, "sent").inc()
        return self._run(call_new)

    def sample_noise(
        self, route: str, rules: ShadowRules, call_legacy: Callable[[], Awaitable[Capture]]
    ) -> asyncio.Future[Capture] | None:
        """Ask legacy a second time, on a sample, to learn which fields differ by themselves."""
        stats = self.stats(route)
        warming_up = stats.noise_samples < rules.noise_warmup
        if not warming_up and self._rng.random() >= rules.noise_sample_rate:
            return None
        if len(self._calls) >= self._max_in_flight:
            return None
        stats.noise_samples += 1
        return self._run(call_legacy)

    def _run(self, call: Callable[[], Awaitable[Capture]]) -> asyncio.Future[Capture]:
        """Start an outbound call; only these count against ``max_in_flight``."""
        future = asyncio.ensure_future(call())
        self._calls.add(future)
        future.add_done_callback(self._calls.discard)
        self._track(future)
        return future

    def _track(self, future: asyncio.Future[Any]) -> None:
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)
        future.add_done_callback(_consume_outcome)

    def compare_later(
        self,
        route: str,
        rules: ShadowRules,
        request: tuple[str, str],
        legacy: Capture,
        new: asyncio.Future[Capture],
        legacy_again: asyncio.Future[Capture] | None = None,
    ) -> None:
        """Compare once the mirror has answered, without holding up the caller.

        ``request`` is the method and target, kept with each recorded difference.
        """

        async def run() -> None:
            stats = self.stats(route)
            try:
                answer = (await new).answer()
            except Exception:
                stats.failed += 1
                MIRRORS.labels(route, "failed").inc()
                return
            primary = legacy.answer()
            if legacy_again is not None:
                with contextlib.suppress(Exception):
                    again = (await legacy_again).answer()
                    stats.learn_noise([d.path for d in compare(primary, again, rules.compare)])
            stats.compared += 1
            differences = compare(primary, answer, rules.compare)
            real = [d for d in differences if generalize(d.path) not in stats.noisy_fields]
            if differences and not real:
                stats.noisy += 1
            elif real:
                stats.differing += 1
                DIFFS.labels(route).inc()
                method, target = request
                stats.recent.appendleft(Difference(utcnow(), method, target, lines(real)))

        self._track(asyncio.ensure_future(run()))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
