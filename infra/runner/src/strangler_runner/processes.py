"""Operating-system process control: liveness, start times, process groups."""

import contextlib
import os
import signal
from pathlib import Path

__all__ = ["is_alive", "is_same_process", "signal_group", "start_ticks"]

# Offsets into /proc/<pid>/stat counted after the command name (see proc(5): fields 3 and 22).
_STATE_FIELD = 0
_START_TIME_FIELD = 19


def is_alive(pid: int) -> bool:
    """Whether `pid` is a running process; a zombie waiting to be reaped counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot; None where /proc cannot tell."""
    fields = _proc_stat_fields(pid)
    return int(fields[_START_TIME_FIELD]) if len(fields) > _START_TIME_FIELD else None


def is_same_process(pid: int, expected_start_ticks: int | None) -> bool:
    """Whether `pid` is alive and still the process it was, not a later one reusing the pid."""
    if not is_alive(pid):
        return False
    return expected_start_ticks is None or start_ticks(pid) in (None, expected_start_ticks)


def _is_zombie(pid: int) -> bool:
    fields = _proc_stat_fields(pid)
    return bool(fields) and fields[_STATE_FIELD] == "Z"


def _proc_stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name, or [] when unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    # The command name in parentheses may itself contain spaces or parentheses.
    return stat.rpartition(")")[2].split()


def signal_group(pgid: int, signum: signal.Signals) -> None:
    """Signal a whole process group; a group that has already gone is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)
