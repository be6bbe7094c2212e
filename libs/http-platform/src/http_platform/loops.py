"""Background loops (outbox relays, consumers, saga workers, sync) under one supervisor.

A process that serves HTTP also runs loops in the background. A loop that dies must not die
silently while the process keeps answering as if all were well: the supervisor logs why it
stopped, starts it again after a backoff (doubling from ``first_backoff`` up to
``max_backoff``, back to the first once a run lasted longer than ``max_backoff``), and says so
where operators look:

- ``GET /health/ready`` answers 503 ``not-ready`` naming the loop while it is down
  (``health_router(..., loops=supervisor)``);
- ``/metrics`` has ``strangler_loop_restarts_total{component,loop}`` and
  ``strangler_loop_running{component,loop}``.

A loop is a function of the process's stop event that returns once the event is set, e.g.
``relay.run``. A loop that keeps state it cannot start twice (a Kafka producer, once
stopped, cannot be started again) is given as a function that builds a fresh one each run::

    loops = LoopSupervisor("billing")
    running = {
        "outbox-relay": lambda stop: OutboxRelay(engine, outbox, producer()).run(stop),
        "sagas": billing.sagas.run,
    }
    async with loops.running(running):
        yield  # the app serves
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from local_processes import stopped_within
from prometheus_client import Counter, Gauge

__all__ = ["Loop", "LoopState", "LoopSupervisor"]

Loop = Callable[[asyncio.Event], Awaitable[None]]

logger = logging.getLogger(__name__)

LOOP_RESTARTS = Counter(
    "strangler_loop_restarts_total",
    "Background loops started again after they stopped on their own",
    ["component", "loop"],
)
LOOP_RUNNING = Gauge(
    "strangler_loop_running", "1 while the background loop runs", ["component", "loop"]
)


@dataclass
class LoopState:
    """How one loop is doing, as readiness shows it."""

    status: Literal["starting", "running", "restarting", "stopped"] = "starting"
    restarts: int = 0
    last_failure: str | None = None

    def describe(self) -> str:
        if self.status == "running" and self.restarts == 0:
            return "running"
        if self.status == "restarting":
            return f"restarting after {self.last_failure} ({self.restarts} restarts)"
        return f"{self.status} ({self.restarts} restarts, last: {self.last_failure})"


class LoopSupervisor:
    """Runs named loops until stopped; restarts one that raises or returns early."""

    def __init__(
        self,
        component: str,
        *,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
        stop_timeout: float = 3.0,
    ) -> None:
        self.component = component
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.stop_timeout = stop_timeout
        self._states: dict[str, LoopState] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    @property
    def names(self) -> list[str]:
        """The loops of the current run."""
        return list(self._states)

    def states(self) -> dict[str, LoopState]:
        return dict(self._states)

    def down(self) -> dict[str, str]:
        """The loops not running now (waiting to restart, or stopped), each with why."""
        return {
            name: state.describe()
            for name, state in self._states.items()
            if state.status in {"restarting", "stopped"}
        }

    @contextlib.asynccontextmanager
    async def running(self, loops: Mapping[str, Loop]) -> AsyncIterator[None]:
        """Start every loop; on the way out, ask them to stop and wait (bounded)."""
        self._stop = asyncio.Event()
        self._states = {name: LoopState() for name in loops}
        self._tasks = [
            asyncio.create_task(self._supervise(name, loop), name=f"{self.component}:{name}")
            for name, loop in loops.items()
        ]
        try:
            yield
        finally:
            await self._stop_all()

    async def _stop_all(self) -> None:
        self._stop.set()
        if not self._tasks:
            return
        _, late = await asyncio.wait(self._tasks, timeout=self.stop_timeout)
        for task in late:
            logger.warning(
                "%s did not stop within %gs; cancelling it", task.get_name(), self.stop_timeout
            )
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=self.stop_timeout)
        self._tasks = []

    async def _supervise(self, name: str, loop: Loop) -> None:
        state = self._states[name]
        running = LOOP_RUNNING.labels(self.component, name)
        restarts = LOOP_RESTARTS.labels(self.component, name)
        backoff = self.first_backoff
        clock = asyncio.get_running_loop()
        while not self._stop.is_set():
            state.status = "running"
            running.set(1)
            started = clock.time()
            try:
                await loop(self._stop)
            except Exception as error:
                state.last_failure = f"{type(error).__name__}: {error}"
                logger.exception("%s: background loop %s failed", self.component, name)
            else:
                if self._stop.is_set():
                    break
                state.last_failure = "it returned before it was asked to stop"
                logger.error("%s: background loop %s returned on its own", self.component, name)
            finally:
                running.set(0)
            if clock.time() - started > self.max_backoff:
                backoff = self.first_backoff
            state.status = "restarting"
            state.restarts += 1
            restarts.inc()
            logger.warning(
                "%s: restarting %s in %.1fs (restart %d)", self.component, name, backoff,
                state.restarts,
            )  # fmt: skip
            if await stopped_within(self._stop, backoff):
                break
            backoff = min(backoff * 2, self.max_backoff)
        state.status = "stopped"
