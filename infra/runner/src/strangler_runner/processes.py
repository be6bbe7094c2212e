"""Operating-system process control: liveness, process groups, dying with the parent."""

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["die_with_parent", "is_alive", "is_same_process", "signal_group", "start_ticks"]

_PR_SET_PDEATHSIG = 1
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


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child receive SIGTERM when the runner dies, even by SIGKILL.

    Linux only (`PR_SET_PDEATHSIG`); elsewhere there is nothing to install and the runner's
    own shutdown is what stops its children.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent_pid = os.getpid()

    def arm_parent_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return arm_parent_death_signal
