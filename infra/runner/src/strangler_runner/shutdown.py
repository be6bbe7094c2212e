"""`strangler down`: ask the runner to stop, and make sure it did."""

import os
import signal
import time

from local_processes import is_alive, signal_group

from strangler_runner.console import RunnerConsole
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import StateDir
from strangler_runner.status import live_run_record

__all__ = ["bring_down"]

_POLL_INTERVAL_SECONDS = 0.1


def bring_down(settings: RunnerSettings, console: RunnerConsole) -> int:
    """SIGTERM the runner and wait until it has stopped every component and exited."""
    state = StateDir(settings.state_dir)
    record = live_run_record(state)
    if record is None:
        state.remove_run_record()
        console.message("not running")
        return 0

    console.message(f"stopping the runner (pid {record.runner_pid})")
    os.kill(record.runner_pid, signal.SIGTERM)
    # The runner stops components one after another, each within the stop timeout.
    grace_seconds = settings.stop_timeout_seconds * (len(record.components) + 1)
    if _wait_until_gone(record.runner_pid, grace_seconds):
        console.message("stopped")
        return 0

    console.error(
        f"the runner did not stop within {grace_seconds:g} s; killing it and its components"
    )
    os.kill(record.runner_pid, signal.SIGKILL)
    for component in record.components:
        signal_group(component.pid, signal.SIGKILL)
    state.remove_run_record()
    return 1


def _wait_until_gone(pid: int, timeout_seconds: float) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL_SECONDS)
    return True
