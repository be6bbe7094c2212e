"""Supervision of a running system.

**Start-up, in parallel.** Every component's `prepare` steps (migrations, seeds) run at once
from the beginning; a component starts as soon as its own steps are done and the components
it `needs` are healthy, and is ready once it answers its health probe and its `once_healthy`
steps exited 0. If any of that fails, everything started is stopped and `run()` returns 1.

**Running: a component that dies is started again.** After a back-off (1 s, doubling up to
30 s; back to 1 s once it has stayed up for a minute), without its `prepare` steps but with
its `once_healthy` ones (a restarted broker has lost its topics). The others keep running.
`run.json` records each component's state, restart count and the reason it last exited;
`strangler status` shows them. `stop|start|restart <component>` arrive on the control socket
(see control.py); a component stopped on request stays stopped until started again.

**Stopping, bounded.** A stop signal stops the components that nothing needs or talks to
first (the gateway), then those only they needed or talked to (the broker last), each tier at
once; each component gets SIGTERM and then
SIGKILL after the stop timeout. Whatever ends a run — a signal, a failed start, a bug in the
runner — every child process group is stopped before the supervisor returns, and children
also get SIGTERM from the kernel if the runner itself is killed (`die_with_parent`).
"""

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from local_processes import describe_exit, start_ticks

from strangler_runner.child import RunnerChild
from strangler_runner.components import Component, InProcessStep, Step, start_argv
from strangler_runner.console import ComponentStatus, RunnerConsole
from strangler_runner.control import ControlReply, ControlRequest, serve_control
from strangler_runner.health import wait_until_healthy
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import ComponentRecord, ComponentState, RunRecord, StateDir

__all__ = ["STOP_SIGNALS", "Supervisor", "restart_delay", "stop_tiers"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
FIRST_RESTART_DELAY_SECONDS = 1.0
LONGEST_RESTART_DELAY_SECONDS = 30.0
STABLE_AFTER_SECONDS = 60.0


def restart_delay(failures_in_a_row: int) -> float:
    """1 s before the first restart, doubling with each failure in a row, at most 30 s."""
    exponent = min(max(failures_in_a_row - 1, 0), 16)
    return min(FIRST_RESTART_DELAY_SECONDS * float(2**exponent), LONGEST_RESTART_DELAY_SECONDS)


def stop_tiers(components: Sequence[Component]) -> list[list[Component]]:
    """The order of stopping, tier by tier: first what nothing needs or talks to (the
    gateway), then what only those needed or talked to, and so on (the broker last)."""
    height: dict[str, int] = {}

    def height_of(component: Component) -> int:
        if component.name not in height:
            needing = [
                other for other in components if component.name in (*other.needs, *other.talks_to)
            ]
            height[component.name] = 1 + max((height_of(other) for other in needing), default=-1)
        return height[component.name]

    tiers: dict[int, list[Component]] = {}
    for component in components:
        tiers.setdefault(height_of(component), []).append(component)
    return [tiers[level] for level in sorted(tiers)]


class _StartFailed(Exception):
    """A component could not start; the console has said why."""


@dataclass
class _Supervised:
    component: Component
    record: ComponentRecord
    child: RunnerChild | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    keeper: asyncio.Task[None] | None = None
    operation: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def name(self) -> str:
        return self.component.name


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
        self._supervised = {
            component.name: _Supervised(
                component,
                ComponentRecord(
                    name=component.name,
                    pid=0,
                    urls=dict(component.urls),
                    health_url=component.health_url,
                ),
            )
            for component in components
        }
        self._record = RunRecord(
            runner_pid=os.getpid(),
            runner_start_ticks=start_ticks(os.getpid()),
            started_at=datetime.now(UTC),
            phase="starting",
            components=[entry.record for entry in self._supervised.values()],
        )

    async def run(self) -> int:
        """Run the system until a stop signal (exit code 0) or a failed start (exit code 1)."""
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self._request_stop, signum)
        self._save()
        control = await serve_control(self._state.control_socket, self._on_request)
        try:
            if not await self._start_all_unless_stopped():
                return 0 if self._stop_requested.is_set() else 1
            self._announce_running()
            await self._stop_requested.wait()
            return 0
        finally:
            control.close()
            await self._stop_all()
            self._state.control_socket.unlink(missing_ok=True)
            self._state.remove_run_record()
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)

    def _request_stop(self, signum: signal.Signals) -> None:
        if not self._stop_requested.is_set():
            self._console.note(f"{signum.name} received, stopping")
            self._stop_requested.set()

    def _save(self) -> None:
        self._state.write_run_record(self._record)

    def _set_state(self, entry: _Supervised, state: ComponentState) -> None:
        entry.record.state = state
        self._save()

    # ------------------------------------------------------------ start-up, in parallel

    async def _start_all_unless_stopped(self) -> bool:
        """Whether every component started; False at once when a stop is requested."""
        starting = asyncio.create_task(self._start_all())
        stopping = asyncio.create_task(self._stop_requested.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (starting, stopping):
            task.cancel()
        await asyncio.gather(starting, stopping, return_exceptions=True)
        return not self._stop_requested.is_set() and starting.result()

    async def _start_all(self) -> bool:
        started = True
        try:
            async with asyncio.TaskGroup() as group:
                for entry in self._supervised.values():
                    group.create_task(self._bring_up(entry))
        except* _StartFailed:
            started = False
        return started

    async def _bring_up(self, entry: _Supervised) -> None:
        if not await self._run_steps(entry.component, entry.component.prepare):
            raise _StartFailed
        needed = [self._supervised[name] for name in entry.component.needs]
        await asyncio.gather(*(other.ready.wait() for other in needed))
        failure = await self._launch(entry)
        if failure is not None:
            raise _StartFailed
        self._keep(entry)

    async def _run_steps(self, component: Component, steps: Sequence[Step | InProcessStep]) -> bool:
        for step in steps:
            self._console.note(f"{component.name}: {step.label}")
            if isinstance(step, InProcessStep):
                why = await step.run(self._console)
                if why is not None:
                    self._console.failure(component.name, f"{step.label} failed: {why}", ())
                    return False
                continue
            child = await RunnerChild.start(component.name, step.argv, component.env, self._console)
            try:
                returncode = await child.wait()
            finally:
                await child.stop(self._settings.stop_timeout_seconds)
            if returncode != 0:
                self._console.failure(
                    component.name, f"{step.label} {describe_exit(returncode)}", child.recent_lines
                )
                return False
        return True

    async def _launch(self, entry: _Supervised) -> str | None:
        """Start the component, wait until healthy, run its `once_healthy` steps; why not."""
        component = entry.component
        self._console.note(f"starting {component.name}")
        child = await RunnerChild.start(
            component.name, start_argv(component), component.env, self._console
        )
        entry.child = child
        entry.record.pid = child.pid
        self._set_state(entry, "starting" if entry.record.restarts == 0 else "restarting")

        timeout = self._settings.health_timeout_seconds
        finished = await _first_of(
            timeout,
            healthy=wait_until_healthy(component.health_url, self._client),
            exited=child.wait(),
        )
        if "healthy" in finished:
            self._console.note(f"{component.name} is healthy (pid {child.pid})")
            if await self._run_steps(component, component.once_healthy):
                entry.ready.set()
                self._set_state(entry, "up")
                return None
            reason = "its start-up steps failed"
        elif "exited" in finished:
            assert child.returncode is not None
            reason = f"{describe_exit(child.returncode)} before becoming healthy"
        else:
            reason = f"was not healthy within {timeout:g} s ({component.health_url})"
        self._console.failure(component.name, reason, child.recent_lines)
        await child.stop(self._settings.stop_timeout_seconds)
        return reason

    def _announce_running(self) -> None:
        self._record.phase = "running"
        self._save()
        self._console.components(
            (
                ComponentStatus(
                    name=entry.name, pid=entry.pid, urls=entry.urls, up=True, state=entry.state
                )
                for entry in self._record.components
            ),
            with_state=False,
        )
        self._console.note("press Ctrl-C to stop every component")

    # ------------------------------------------------------------ running: keep each one up

    def _keep(self, entry: _Supervised) -> None:
        """Watch the component from now on; start it again each time it dies."""
        entry.keeper = asyncio.create_task(self._keeping(entry), name=f"keep {entry.name}")

    async def _keeping(self, entry: _Supervised) -> None:
        failures_in_a_row = 0
        while True:
            child = entry.child
            assert child is not None
            up_since = time.monotonic()
            returncode = await child.wait()
            await child.stop(self._settings.stop_timeout_seconds)
            if time.monotonic() - up_since >= STABLE_AFTER_SECONDS:
                failures_in_a_row = 0
            reason = f"{describe_exit(returncode)} unexpectedly"
            self._console.failure(entry.name, reason, child.recent_lines)
            while True:
                failures_in_a_row += 1
                entry.ready.clear()
                self._exited(entry, reason, "restarting")
                delay = restart_delay(failures_in_a_row)
                self._console.note(
                    f"restarting {entry.name} in {delay:g} s (restart {entry.record.restarts + 1})"
                )
                await asyncio.sleep(delay)
                async with entry.operation:
                    entry.record.restarts += 1
                    failure = await self._launch(entry)
                if failure is None:
                    self._console.note(
                        f"{entry.name} is up again after {entry.record.restarts} "
                        f"restart{'s' if entry.record.restarts > 1 else ''}"
                    )
                    break
                reason = failure

    def _exited(self, entry: _Supervised, reason: str, state: ComponentState) -> None:
        entry.record.last_exit = reason
        entry.record.last_exit_at = datetime.now(UTC)
        self._set_state(entry, state)

    async def _forget_keeper(self, entry: _Supervised) -> None:
        keeper, entry.keeper = entry.keeper, None
        if keeper is not None:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)

    # ------------------------------------------------------------ stop|start|restart on request

    async def _on_request(self, request: ControlRequest) -> ControlReply:
        entry = self._supervised.get(request.component)
        if entry is None:
            known = ", ".join(self._supervised)
            return ControlReply(
                ok=False, message=f"no component named {request.component!r} (one of: {known})"
            )
        if self._record.phase != "running":
            return ControlReply(ok=False, message=f"the runner is {self._record.phase}")
        async with entry.operation:
            if request.command == "stop":
                return await self._stop_on_request(entry)
            if request.command == "start":
                return await self._start_on_request(entry)
            await self._stop_on_request(entry, reason="restarted on request")
            return await self._start_on_request(entry)

    async def _stop_on_request(
        self, entry: _Supervised, reason: str = "stopped on request"
    ) -> ControlReply:
        await self._forget_keeper(entry)
        entry.ready.clear()
        if entry.child is None or entry.child.returncode is not None:
            if entry.record.state != "stopped":
                self._exited(entry, reason, "stopped")
            return ControlReply(ok=True, message=f"{entry.name} was not running")
        self._console.note(f"stopping {entry.name} ({reason})")
        self._set_state(entry, "stopping")
        await entry.child.stop(self._settings.stop_timeout_seconds)
        self._exited(entry, reason, "stopped")
        return ControlReply(ok=True, message=f"{entry.name} stopped")

    async def _start_on_request(self, entry: _Supervised) -> ControlReply:
        if entry.child is not None and entry.child.returncode is None and entry.keeper:
            return ControlReply(ok=True, message=f"{entry.name} is already running")
        await self._forget_keeper(entry)
        if entry.child is not None and entry.child.returncode is None:
            await entry.child.stop(self._settings.stop_timeout_seconds)
        entry.record.restarts += 1
        failure = await self._launch(entry)
        if failure is not None:
            self._exited(entry, failure, "stopped")
            return ControlReply(ok=False, message=f"{entry.name} {failure}")
        self._keep(entry)
        return ControlReply(ok=True, message=f"{entry.name} is up (pid {entry.record.pid})")

    # ------------------------------------------------------------ stopping, bounded

    async def _stop_all(self) -> None:
        started = [entry for entry in self._supervised.values() if entry.child is not None]
        if not started:
            return
        self._record.phase = "stopping"
        self._save()
        await asyncio.gather(*(self._forget_keeper(entry) for entry in started))
        for tier in stop_tiers(self._components):
            await asyncio.gather(*(self._stop_one(self._supervised[c.name]) for c in tier))
        self._console.note("every component has stopped")

    async def _stop_one(self, entry: _Supervised) -> None:
        if entry.child is None:
            return
        if entry.child.returncode is None:
            self._console.note(f"stopping {entry.name}")
        await entry.child.stop(self._settings.stop_timeout_seconds)


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
