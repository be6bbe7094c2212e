"""Shadow traffic: mirror a safe request to the new side, compare its answer with legacy's.

The user is always served by legacy; the mirror runs in a background task and never delays
or fails the user's request. When too many mirrors are already in flight, new ones are
dropped (and counted) rather than queued, so a slow new service cannot build up memory.

Comparison in this slice: status, ``Content-Type``, and the body — as structured JSON when
both sides send JSON, byte for byte otherwise. Per-route ignore rules and noise cancelling
are not built yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strangler_persistence import utcnow

from strangler_gateway.metrics import DIFFS, MIRRORS

__all__ = ["Capture", "Difference", "RouteShadowStats", "Shadow", "diff_json"]

logger = logging.getLogger(__name__)

MAX_COMPARED_BODY_BYTES = 256 * 1024


@dataclass(slots=True)
class Capture:
    """One side's answer, as far as the comparison needs it."""

    status: int
    content_type: str
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


@dataclass(frozen=True, slots=True)
class Difference:
    at: datetime
    method: str
    target: str
    fields: list[str]


@dataclass(slots=True)
class RouteShadowStats:
    mirrored: int = 0
    compared: int = 0
    differing: int = 0
    dropped: int = 0
    failed: int = 0
    recent: deque[Difference] = field(default_factory=lambda: deque(maxlen=20))

    @property
    def diff_rate(self) -> float:
        return self.differing / self.compared if self.compared else 0.0


def diff_json(legacy: Any, new: Any, path: str = "") -> list[str]:
    """Field-level differences as readable lines, e.g. ``/items/0/total: 10 != 12``."""
    if isinstance(legacy, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(set(legacy) | set(new), key=str):
            child = f"{path}/{key}"
            if key not in new:
                lines.append(f"{child}: only in legacy")
            elif key not in legacy:
                lines.append(f"{child}: only in new")
            else:
                lines += diff_json(legacy[key], new[key], child)
        return lines
    if isinstance(legacy, list) and isinstance(new, list):
        if len(legacy) != len(new):
            return [f"{path or '/'}: {len(legacy)} items != {len(new)} items"]
        return [line for i, (a, b) in enumerate(zip(legacy, new, strict=True))
                for line in diff_json(a, b, f"{path}/{i}")]  # fmt: skip
    if legacy != new or type(legacy) is not type(new):
        return [f"{path or '/'}: {json.dumps(legacy)} != {json.dumps(new)}"]
    return []


def compare(legacy: Capture, new: Capture) -> list[str]:
    """What differs between the two answers; empty when they agree."""
    lines: list[str] = []
    if legacy.status != new.status:
        lines.append(f"status: {legacy.status} != {new.status}")
    if legacy.content_type != new.content_type:
        lines.append(f"content-type: {legacy.content_type!r} != {new.content_type!r}")
    if legacy.truncated or new.truncated:
        return lines
    if "json" in legacy.content_type and "json" in new.content_type:
        try:
            return lines + diff_json(json.loads(legacy.body), json.loads(new.body))
        except ValueError:
            pass
    if legacy.body != new.body:
        lines.append(f"body: {len(legacy.body)} bytes != {len(new.body)} bytes")
    return lines


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    """A mirror nobody awaits (its primary failed) must not log "exception never retrieved"."""
    if not future.cancelled():
        future.exception()


class Shadow:
    """Runs mirrors in the background, bounded, and keeps per-route comparison figures."""

    def __init__(self, max_in_flight: int = 64) -> None:
        self._max_in_flight = max_in_flight
        self._tasks: set[asyncio.Future[Any]] = set()
        self._stats: dict[str, RouteShadowStats] = {}

    def stats(self, route: str) -> RouteShadowStats:
        return self._stats.setdefault(route, RouteShadowStats())

    def start(
        self, route: str, call_new: Callable[[], Awaitable[Capture]]
    ) -> asyncio.Future[Capture] | None:
        """Start the mirror now; ``None`` when it is dropped because too many are in flight."""
        stats = self.stats(route)
        if len(self._tasks) >= self._max_in_flight:
            stats.dropped += 1
            MIRRORS.labels(route, "dropped").inc()
            return None
        stats.mirrored += 1
        MIRRORS.labels(route, "sent").inc()
        mirror = asyncio.ensure_future(call_new())
        self._track(mirror)
        return mirror

    def _track(self, future: asyncio.Future[Any]) -> None:
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)
        future.add_done_callback(_consume_outcome)

    def compare_later(
        self, route: str, method: str, target: str, legacy: Capture, new: asyncio.Future[Capture]
    ) -> None:
        """Compare once the mirror has answered, without holding up the caller."""

        async def run() -> None:
            stats = self.stats(route)
            try:
                answer = await new
            except Exception:
                stats.failed += 1
                MIRRORS.labels(route, "failed").inc()
                return
            stats.compared += 1
            fields = compare(legacy, answer)
            if fields:
                stats.differing += 1
                DIFFS.labels(route).inc()
                stats.recent.appendleft(Difference(utcnow(), method, target, fields))

        self._track(asyncio.ensure_future(run()))

    def abandon(self, new: asyncio.Future[Capture]) -> None:
        new.cancel()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
