"""Putting a route back on legacy when its new side misbehaves: the rollback watch's verdicts
acted upon.

Every call the proxy meant for a route's new side is evidence while the route is in
``canary`` or ``new``: an answer below 500 is a success; a 5xx, an upstream that cannot be
reached or does not answer in time, and a call the open breaker refused are failures. The
refused ones matter most: with the new side down, the breaker refuses nearly every call, and
the rollback must fire within its window then — not after the new side is back.
"""

from __future__ import annotations

import asyncio
import logging

from strangler_flags import Mode, RouteFlag

from strangler_gateway.metrics import ROLLBACKS
from strangler_gateway.rollback import RollbackWatch
from strangler_gateway.routes import Route
from strangler_gateway.store import FlagStore

__all__ = ["AUTO_ROLLBACK_ACTOR", "AutoRollback"]

logger = logging.getLogger(__name__)

AUTO_ROLLBACK_ACTOR = "gateway:auto-rollback"


class AutoRollback:
    def __init__(self, flags: FlagStore, watch: RollbackWatch) -> None:
        self._flags = flags
        self._watch = watch
        self._background: set[asyncio.Task[None]] = set()

    def record(self, route: Route, ok: bool, seconds: float) -> None:
        """One call to the route's new side; on a verdict, set the route to legacy (in the
        background: the request that tipped it is not held up by the flag store)."""
        if self._flags.current().flag(route.flag).mode not in (Mode.CANARY, Mode.NEW):
            return
        verdict = self._watch.record(route.name, route.rollback, ok, seconds)
        if verdict is None:
            return
        logger.warning("rolling route %s back to legacy: %s", route.name, verdict.reason)
        ROLLBACKS.labels(route.name).inc()
        task = asyncio.create_task(
            self._flags.set_flag(
                route.flag, RouteFlag(), who=AUTO_ROLLBACK_ACTOR, reason=verdict.reason
            )
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)
