"""Processes as the operating system sees them: liveness, start times, groups and trees."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "is_alive",
    "is_same_process",
    "process_tree",
    "resident_bytes",
    "signal_group",
    "start_ticks",
]

# Offsets into /proc/<pid>/stat counted after the command name (see proc(5): fields 3, 4, 22).
_STATE_FIELD = 0
_PARENT_FIELD = 1
_START_TIME_FIELD = 19
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def signal_group(pgid: int, signum: signal.Signals) -> None:
    """Signal a whole process group; a group that has already gone is not an error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


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


def process_tree(pid: int) -> list[int]:
    """`pid` and every process descending from it that is alive now (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _proc_stat_fields(int(entry.name))
            if len(fields) > _PARENT_FIELD:
                children.setdefault(int(fields[_PARENT_FIELD]), []).append(int(entry.name))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        if is_alive(current):
            tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def resident_bytes(pids: Iterable[int]) -> int:
    """The resident set sizes of `pids` added up (shared pages count once per process)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_BYTES
    return total


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
