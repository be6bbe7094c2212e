"""What every script in bench/ shares: its arguments, its child processes, the machine it
ran on, and the results table.

```python
parser = bench_arguments(__doc__, timeout=600)  # --quick and --timeout come with it
...
sys.exit(run_bench(lambda folder, children: measure(settings, folder, children), timeout))
```

`run_bench` gives the measuring function a temporary folder and a `Children` whose processes
are all stopped when it returns, raises, is interrupted (Ctrl-C, SIGTERM) or runs out of time.
`print_table` prints rows of figures with ratio columns (a figure ÷ a baseline);
`print_verdicts` prints a table whose last column is a verdict (`yes` / `NO`) for each target.
Every bench prints both, and `machine_note` (the load average before and after the run):
tests/e2e/test_running_every_bench.py runs each one's `--quick` mode and checks exactly that.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

from local_processes import AsyncChildProcess, ChildProcess, process_tree

__all__ = [
    "HOST",
    "BenchFailed",
    "Children",
    "Column",
    "Target",
    "bench_arguments",
    "console_script",
    "cpu_seconds",
    "free_ports",
    "last_resort_seconds",
    "load_average",
    "machine_note",
    "print_notes",
    "print_table",
    "print_verdicts",
    "ratio",
    "run_bench",
    "run_captured",
    "run_step",
    "run_step_async",
    "verdict",
]

HOST = "127.0.0.1"
STOP_TIMEOUT_SECONDS = 15.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_CLEANUP_GRACE_SECONDS = 60


class BenchFailed(RuntimeError):
    """The bench could not measure what it set out to: the figures would mean nothing."""


# ---------------------------------------------------------------- arguments and running


def bench_arguments(doc: str | None, *, timeout: float) -> argparse.ArgumentParser:
    """A parser with the options every bench takes: `--quick` (a smoke run) and `--timeout`."""
    parser = argparse.ArgumentParser(
        description=doc.strip().splitlines()[0] if doc else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: small counts")
    parser.add_argument(
        "--timeout", type=float, default=timeout, help=f"hard limit, seconds ({timeout:g})"
    )
    return parser


class _OutOfTime(Exception):
    pass


def run_bench(
    measure: Callable[[Path, Children], None], timeout_seconds: float, *, name: str
) -> int:
    """Run `measure(folder, children)` within `timeout_seconds`; the process exit code.

    Every child is stopped however it ends; a `BenchFailed` is reported without a traceback.
    """

    def terminate(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    def out_of_time(_signum: int, _frame: FrameType | None) -> None:
        raise _OutOfTime

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(math.ceil(timeout_seconds))
    try:
        with (
            tempfile.TemporaryDirectory(prefix=f"strangler-bench-{name}-") as folder,
            Children(Path(folder)) as children,
        ):
            measure(Path(folder), children)
    except BenchFailed as failure:
        print(f"bench: {failure}", file=sys.stderr)
        return 1
    except (_OutOfTime, TimeoutError):
        print(f"bench: gave up after {timeout_seconds:g} s", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
    return 0


def last_resort_seconds(timeout_seconds: float) -> float:
    """For a bench that bounds its own measuring (`asyncio.wait_for`): the bound to give
    `run_bench`, leaving room for the cleanup after it."""
    return timeout_seconds + _CLEANUP_GRACE_SECONDS


# ---------------------------------------------------------------- processes


def run_captured(
    argv: Sequence[str], env: Mapping[str, str] | None = None, *, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, its output captured; `BenchFailed` if it overruns.

    It runs as a `local_processes.ChildProcess`: its whole group is stopped whatever happens.
    """
    child = ChildProcess.start(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = child.process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchFailed(f"{' '.join(argv)}: not done after {timeout:g} s") from None
    finally:
        child.stop(STOP_TIMEOUT_SECONDS)
    return subprocess.CompletedProcess(
        list(argv), child.process.returncode, out.decode(errors="replace"),
        err.decode(errors="replace"),
    )  # fmt: skip


def run_step(argv: Sequence[str], env: Mapping[str, str] | None = None, *,
             timeout: float = 120) -> str:  # fmt: skip
    """Run a command until it exits 0: its output, or `BenchFailed` with it."""
    completed = run_captured(argv, env, timeout=timeout)
    if completed.returncode != 0:
        raise BenchFailed(
            f"{' '.join(argv)} exited with {completed.returncode}:\n"
            f"{completed.stdout}{completed.stderr}"
        )
    return completed.stdout


async def run_step_async(
    argv: Sequence[str], env: Mapping[str, str] | None = None, *, limit_seconds: float = 120
) -> str:
    """`run_step` for asyncio code: stdout and stderr together, or `BenchFailed` with them."""
    child = await AsyncChildProcess.start(argv, env=env, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(child.process.communicate(), limit_seconds)
    except TimeoutError:
        raise BenchFailed(f"{' '.join(argv)}: not done after {limit_seconds:g} s") from None
    finally:
        await child.stop(STOP_TIMEOUT_SECONDS)
    text = output.decode(errors="replace")
    if child.returncode != 0:
        raise BenchFailed(f"{' '.join(argv)} exited with {child.returncode}:\n{text}")
    return text


def console_script(name: str) -> str:
    """A console script installed next to this interpreter (the workspace's virtualenv)."""
    return str(Path(sys.executable).parent / name)


def free_ports(count: int) -> list[int]:
    """`count` distinct ports of 127.0.0.1 that were free a moment ago."""
    ports: set[int] = set()
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            ports.add(probe.getsockname()[1])
    return sorted(ports)


class Children:
    """Every long-running process a bench starts, its output in `<folder>/<name>.log`.

    Each is a `local_processes.ChildProcess`: its own process group, SIGTERM if the bench
    dies, SIGTERM then SIGKILL when stopped. `stop_all` stops them in reverse order.
    """

    def __init__(self, logs: Path) -> None:
        self._logs = logs
        self._started: dict[str, ChildProcess] = {}

    def __enter__(self) -> Children:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    def start(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with self.log_path(name).open("wb") as log:
            child = ChildProcess.start(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._started[name] = child
        return child.process

    def log_path(self, name: str) -> Path:
        return self._logs / f"{name}.log"

    def tail(self, name: str, lines: int = 25) -> str:
        path = self.log_path(name)
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(f"    {line}" for line in text.splitlines()[-lines:])

    def stop(self, name: str, timeout_seconds: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM its group, SIGKILL it after `timeout_seconds`; returns once it is gone."""
        child = self._started.pop(name, None)
        if child is not None:
            child.stop(timeout_seconds)

    def stop_all(self) -> None:
        started, self._started = list(self._started.values()), {}
        for child in reversed(started):
            child.stop(STOP_TIMEOUT_SECONDS)


# ---------------------------------------------------------------- the machine


def cpu_seconds(pid: int) -> float:
    """The CPU time, in seconds, of `pid` and every process descending from it, including the
    children they have already waited for (utime + stime + cutime + cstime)."""
    ticks = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
            ticks += sum(int(field) for field in fields[11:15])  # fields 14 to 17 of proc(5)
    return ticks / CLOCK_TICKS


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def machine_note(load_before: str) -> dict[str, str]:
    """`machine` (cores, platform, load average before and after) and `python` notes."""
    return {
        "machine": (
            f"{os.cpu_count()} cores, {platform.platform()}; load average {load_before} "
            f"before, {load_average()} after"
        ),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


# ---------------------------------------------------------------- the report


def ratio(value: float | None, base: float | None) -> str:
    """`value / base` to two decimals, `-` when either is missing or the base is zero."""
    return f"{value / base:.2f}" if value is not None and base else "-"


def verdict(met: bool) -> str:
    return "yes" if met else "NO"


@dataclass(frozen=True)
class Column:
    heading: str
    width: int
    left: bool = False


def print_table(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
    """A plain text table: the first column left-aligned, figures right-aligned."""

    def line(cells: Sequence[str]) -> str:
        return "".join(
            f"{cell:<{column.width}}" if column.left else f"{cell:>{column.width}}"
            for column, cell in zip(columns, cells, strict=True)
        )

    heading = line([column.heading for column in columns])
    print(heading, "-" * len(heading), sep="\n")
    for row in rows:
        print(line(row))


def print_notes(notes: Mapping[str, str]) -> None:
    width = max((len(name) for name in notes), default=0) + 2
    for name, value in notes.items():
        print(f"{name + ':':<{width}}{value}")


@dataclass(frozen=True)
class Target:
    """One target of an issue and the figure measured against it, both as printed."""

    label: str
    measured: str
    target: str
    met: bool


def print_verdicts(heading: str, targets: Sequence[Target]) -> None:
    """The targets table: what was measured, the target, and `yes` or `NO` in the last column."""
    width = max([len(heading), *(len(t.label) for t in targets)]) + 2
    print_table(
        [Column(heading, width, left=True), Column("measured", 12), Column("target", 14),
         Column("met", 6)],
        [(t.label, t.measured, t.target, verdict(t.met)) for t in targets],
    )  # fmt: skip
