"""`strangler status`: what run.json says is running, and whether it answers."""

import asyncio

from local_processes import is_alive, is_same_process

from strangler_runner.console import ComponentStatus, RunnerConsole
from strangler_runner.health import is_healthy, probe_client
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import ComponentRecord, RunRecord, StateDir

__all__ = ["live_run_record", "show_status"]


def live_run_record(state: StateDir) -> RunRecord | None:
    """The run record of a runner that is still alive, or None."""
    record = state.read_run_record()
    if record is None or not is_same_process(record.runner_pid, record.runner_start_ticks):
        return None
    return record


def show_status(settings: RunnerSettings, console: RunnerConsole) -> int:
    """Exit code 0 only when the runner is up and every component answers its health probe."""
    record = live_run_record(StateDir(settings.state_dir))
    if record is None:
        console.message("not running")
        return 1
    statuses = asyncio.run(_probe_all(record.components))
    console.introduce(status.name for status in statuses)
    console.components(statuses, with_state=True)
    if record.phase != "running":
        console.message(f"the runner is {record.phase}")
        return 1
    return 0 if all(status.up for status in statuses) else 1


async def _probe_all(components: list[ComponentRecord]) -> list[ComponentStatus]:
    async with probe_client() as client:
        healthy = await asyncio.gather(
            *(is_healthy(component.health_url, client) for component in components)
        )
    return [
        ComponentStatus(
            name=component.name,
            pid=component.pid,
            urls=component.urls,
            up=answered and is_alive(component.pid),
            state=component.state,
            restarts=component.restarts,
            last_exit=component.last_exit,
        )
        for component, answered in zip(components, healthy, strict=True)
    ]
