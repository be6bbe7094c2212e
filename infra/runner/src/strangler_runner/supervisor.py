"""Supervision of a running system: start in order, each prepared, healthy, then initialised;
stop in reverse.

Whatever ends a run — a signal, a component failing, a bug in the runner — every child
process group is stopped before the supervisor returns. Children also get SIGTERM from the
kernel if the runner itself is killed (see `local_processes.die_with_parent`).
"""

import asyncio
import enum
import os
import signal
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime

import httpx

from strangler_runner.child import ChildProcess, describe_exit
from strangler_runner.components import Component, Step
from strangler_runner.console import ComponentStatus, RunnerConsole
from strangler_runner.health import wait_until_healthy
from strangler_runner.processes import start_ticks
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import ComponentRecord, RunRecord, StateDir

__all__ = ["STOP_SIGNALS", "Supervisor"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Outcome(enum.Enum):
    READY = enum.auto()
    STOP_REQUESTED = enum.auto()
    FAILED = enum.auto()


class Supervisor:
    def __init__(
        self,
        components: Sequence[Component],
        settings: RunnerSettings,
        state: StateDir,
        console: RunnerConsole,
        client: httpx.AsyncClient,
    ) -> None:
        self._components = components
        self._settings = settings
        self._state = state
        self._console = console
        self._client = client
        self._stop_requested = asyncio.Event()
        self._children: list[ChildProcess] = []
        self._record = RunRecord(
            runner_pid=os.getpid(),
            runner_start_ticks=start_ticks(os.getpid()),
            started_at=datetime.now(UTC),
            phase="starting",
        )

    async def run(self) -> int:
        """Run the system until a stop signal (exit code 0) or a failure (exit code 1)."""
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self._request_stop, signum)
        self._state.write_run_record(self._record)
        try:
            outcome = await self._start_all()
            if outcome is _Outcome.READY:
                self._announce_running()
                outcome = await self._watch()
            return 1 if outcome is _Outcome.FAILED else 0
        finally:
            await self._stop_all()
            self._state.remove_run_record()
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)

    def _request_stop(self, signum: signal.Signals) -> None:
        if not self._stop_requested.is_set():
            self._console.note(f"{signum.name} received, stopping")
            self._stop_requested.set()

    async def _start_all(self) -> _Outcome:
        for component in self._components:
            outcome = await self._run_steps(component, component.prepare)
            if outcome is _Outcome.READY:
                outcome = await self._launch(component)
            if outcome is _Outcome.READY:
                outcome = await self._run_steps(component, component.once_healthy)
            if outcome is not _Outcome.READY:
                return outcome
        return _Outcome.READY

    async def _run_steps(self, component: Component, steps: Sequence[Step]) -> _Outcome:
        for step in steps:
            outcome = await self._run_step(component, step)
            if outcome is not _Outcome.READY:
                return outcome
        return _Outcome.READY

    async def _run_step(self, component: Component, step: Step) -> _Outcome:
        self._console.note(f"{component.name}: {step.label}")
        child = await ChildProcess.start(component.name, step.argv, component.env, self._console)
        try:
            finished = await _first_of(None, exited=child.wait(), stop=self._stop_requested.wait())
        finally:
            await child.stop(self._settings.stop_timeout_seconds)
        if "stop" in finished:
            return _Outcome.STOP_REQUESTED
        returncode = child.returncode
        if returncode != 0:
            assert returncode is not None
            self._console.failure(
                component.name, f"{step.label} {describe_exit(returncode)}", child.recent_lines
            )
            return _Outcome.FAILED
        return _Outcome.READY

    async def _launch(self, component: Component) -> _Outcome:
        self._console.note(f"starting {component.name}")
        child = await ChildProcess.start(
            component.name, component.argv, component.env, self._console
        )
        self._children.append(child)
        self._record.components.append(
            ComponentRecord(
                name=component.name,
                pid=child.pid,
                urls=dict(component.urls),
                health_url=component.health_url,
            )
        )
        self._state.write_run_record(self._record)

        timeout = self._settings.health_timeout_seconds
        finished = await _first_of(
            timeout,
            healthy=wait_until_healthy(component.health_url, self._client),
            exited=child.wait(),
            stop=self._stop_requested.wait(),
        )
        if "stop" in finished:
            return _Outcome.STOP_REQUESTED
        if "exited" in finished:
            assert child.returncode is not None
            reason = f"{describe_exit(child.returncode)} before becoming healthy"
        elif "healthy" in finished:
            self._console.note(f"{component.name} is healthy")
            return _Outcome.READY
        else:
            reason = f"was not healthy within {timeout:g} s ({component.health_url})"
        self._console.failure(component.name, reason, child.recent_lines)
        return _Outcome.FAILED

    def _announce_running(self) -> None:
        self._record.phase = "running"
        self._state.write_run_record(self._record)
        self._console.components(
            (
                ComponentStatus(name=entry.name, pid=entry.pid, urls=entry.urls, up=True)
                for entry in self._record.components
            ),
            with_state=False,
        )
        self._console.note("press Ctrl-C to stop every component")

    async def _watch(self) -> _Outcome:
        exits = {f"exited:{index}": child.wait() for index, child in enumerate(self._children)}
        finished = await _first_of(None, stop=self._stop_requested.wait(), **exits)
        if "stop" in finished:
            return _Outcome.STOP_REQUESTED
        for child in self._children:
            if child.returncode is not None:
                reason = f"{describe_exit(child.returncode)} unexpectedly"
                self._console.failure(child.source, reason, child.recent_lines)
        return _Outcome.FAILED

    async def _stop_all(self) -> None:
        if not self._children:
            return
        self._record.phase = "stopping"
        self._state.write_run_record(self._record)
        for child in reversed(self._children):
            if child.returncode is None:
                self._console.note(f"stopping {child.source}")
            await child.stop(self._settings.stop_timeout_seconds)
        self._console.note("every component has stopped")


async def _first_of(within_seconds: float | None, **contenders: Awaitable[object]) -> set[str]:
    """Names of the contenders that finished first; empty if `within_seconds` ran out.

    The others are cancelled. An exception raised by a finished contender propagates.
    """
    tasks = {asyncio.ensure_future(contender): name for name, contender in contenders.items()}
    try:
        done, _ = await asyncio.wait(
            tasks, timeout=within_seconds, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()
    return {tasks[task] for task in done}
