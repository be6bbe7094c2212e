"""`strangler up`: pre-flight checks, then supervision in the foreground."""

import asyncio
import os
from pathlib import Path

from embedded_broker import TansuNotFound
from local_processes import is_same_process

from strangler_runner.components import Component, system_components
from strangler_runner.console import RunnerConsole
from strangler_runner.health import probe_client
from strangler_runner.ports import find_port_problems
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import StateDir
from strangler_runner.supervisor import Supervisor

__all__ = ["bring_up"]


def bring_up(settings: RunnerSettings, console: RunnerConsole) -> int:
    """Start every component and supervise them until stopped; the process exit code."""
    state = StateDir(settings.state_dir)
    running = state.read_run_record()
    if (
        running is not None
        and running.runner_pid != os.getpid()
        and is_same_process(running.runner_pid, running.runner_start_ticks)
    ):
        console.error(
            f"the system is already up (runner pid {running.runner_pid}, see "
            f"{state.run_file}) — use `strangler status` or `strangler down`"
        )
        return 1

    state.create()
    try:
        components = system_components(settings, state.load_or_create_secrets(), state)
    except TansuNotFound as missing:
        console.error(f"the broker cannot start: {missing}")
        return 1
    problems = [*_missing_programs(components), *_port_problems(settings, components)]
    for problem in problems:
        console.error(problem)
    if problems:
        return 1

    console.introduce(component.name for component in components)
    return asyncio.run(_supervise(components, settings, state, console))


async def _supervise(
    components: list[Component], settings: RunnerSettings, state: StateDir, console: RunnerConsole
) -> int:
    async with probe_client() as client:
        return await Supervisor(components, settings, state, console, client).run()


def _missing_programs(components: list[Component]) -> list[str]:
    return [
        f"{component.name} is not installed ({component.argv[0]} is missing) — run `uv sync`"
        for component in components
        if not Path(component.argv[0]).is_file()
    ]


def _port_problems(settings: RunnerSettings, components: list[Component]) -> list[str]:
    return [problem.message for problem in find_port_problems(settings.host, components)]
