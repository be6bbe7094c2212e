"""One way to start and stop a child process, blocking (`ChildProcess`) or in asyncio
(`AsyncChildProcess`).

Every child starts in a process group of its own (a new session), so that one signal
reaches everything it spawns, and gets SIGTERM from the kernel if its parent dies
(`die_with_parent`). Stopping is SIGTERM to the group, then SIGKILL once `timeout_seconds`
have passed, then a wait: nothing the child started is left behind. `kill()` is SIGKILL
at once, as a crash or the OOM killer would end it.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from local_processes.groups import signal_group

__all__ = [
    "STOP_TIMEOUT_SECONDS",
    "AsyncChildProcess",
    "ChildProcess",
    "describe_exit",
    "die_with_parent",
]

STOP_TIMEOUT_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1

Output = int | IO[Any] | None
"""Where a blocking child's output goes: `subprocess.DEVNULL`, `subprocess.PIPE`, a file."""


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that sends the child SIGTERM when this process dies, even by SIGKILL.

    Linux only (``PR_SET_PDEATHSIG``); elsewhere the parent's own shutdown stops its
    children. The signal fires when the *thread* that started the child ends, so it is armed
    only from the main thread: a child started from a worker thread must not die with it.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent_pid = os.getpid()

    def arm_parent_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return arm_parent_death_signal


def describe_exit(returncode: int) -> str:
    """`exited with code 3`, `was killed by SIGKILL`: a returncode in words."""
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        return f"was killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"was killed by signal {-returncode}"


class ChildProcess:
    """A child process in its own group, for code that blocks (tests, benches, the broker)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stdout: Output = subprocess.DEVNULL,
        stderr: Output = subprocess.STDOUT,
    ) -> ChildProcess:
        return cls(
            subprocess.Popen(  # noqa: S603 — argv is the caller's, never a shell line
                list(argv),
                env=dict(env) if env is not None else None,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout_seconds: float | None = None) -> int | None:
        """The returncode, or None if it still runs after `timeout_seconds`."""
        try:
            return self.process.wait(timeout_seconds)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout_seconds: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGTERM the group, SIGKILL it after `timeout_seconds`; the child's returncode."""
        if self.running:
            signal_group(self.pid, signal.SIGTERM)
            if self.wait(timeout_seconds) is None:
                signal_group(self.pid, signal.SIGKILL)
        signal_group(self.pid, signal.SIGKILL)
        return self.process.wait()

    def kill(self) -> int:
        """SIGKILL the group at once: nothing runs after it, no shutdown handler."""
        signal_group(self.pid, signal.SIGKILL)
        return self.process.wait()


class AsyncChildProcess:
    """A child process in its own group, for asyncio code (the runner, async benches)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stdout: Output = asyncio.subprocess.PIPE,
        stderr: Output = asyncio.subprocess.PIPE,
        line_limit_bytes: int = 1024 * 1024,
    ) -> AsyncChildProcess:
        return cls(
            await asyncio.create_subprocess_exec(
                *argv,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                preexec_fn=die_with_parent(),
                limit=line_limit_bytes,
            )
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def wait(self) -> int:
        return await self.process.wait()

    async def stop(
        self,
        timeout_seconds: float = STOP_TIMEOUT_SECONDS,
        on_kill: Callable[[], None] | None = None,
    ) -> int:
        """SIGTERM the group, SIGKILL it after `timeout_seconds` (calling `on_kill` first)."""
        if self.process.returncode is None:
            signal_group(self.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout_seconds)
            except TimeoutError:
                if on_kill is not None:
                    on_kill()
        signal_group(self.pid, signal.SIGKILL)
        return await self.process.wait()

    async def kill(self) -> int:
        signal_group(self.pid, signal.SIGKILL)
        return await self.process.wait()
