"""One child process: its own process group, output streamed line by line, stopped for sure."""

import asyncio
import os
import signal
from collections import deque
from collections.abc import Mapping, Sequence

from local_processes import die_with_parent

from strangler_runner.console import RunnerConsole
from strangler_runner.processes import signal_group

__all__ = ["ChildProcess", "describe_exit"]

_LINE_LIMIT_BYTES = 1024 * 1024
_RECENT_LINES_KEPT = 20
_DRAIN_TIMEOUT_SECONDS = 2.0


def describe_exit(returncode: int) -> str:
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        return f"was killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"was killed by signal {-returncode}"


class ChildProcess:
    def __init__(self, source: str, process: asyncio.subprocess.Process, console: RunnerConsole):
        self.source = source
        self._process = process
        self._console = console
        self._recent: deque[str] = deque(maxlen=_RECENT_LINES_KEPT)
        self._pumps = [
            asyncio.create_task(self._pump(stream))
            for stream in (process.stdout, process.stderr)
            if stream is not None
        ]

    @classmethod
    async def start(
        cls,
        source: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        console: RunnerConsole,
    ) -> "ChildProcess":
        """Start `argv` in a new session, so that one signal reaches everything it spawns."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_child_environment(env),
            start_new_session=True,
            preexec_fn=die_with_parent(),
            limit=_LINE_LIMIT_BYTES,
        )
        return cls(source, process, console)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    @property
    def recent_lines(self) -> list[str]:
        return list(self._recent)

    async def wait(self) -> int:
        return await self._process.wait()

    async def stop(self, timeout_seconds: float) -> None:
        """SIGTERM the process group, SIGKILL it after `timeout_seconds`, leave nothing behind."""
        if self._process.returncode is None:
            signal_group(self.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self._process.wait(), timeout_seconds)
            except TimeoutError:
                self._console.note(
                    f"{self.source} still running {timeout_seconds:g} s after SIGTERM; killing it"
                )
                signal_group(self.pid, signal.SIGKILL)
                await self._process.wait()
        signal_group(self.pid, signal.SIGKILL)
        await self._drain()

    async def _drain(self) -> None:
        _, still_reading = await asyncio.wait(self._pumps, timeout=_DRAIN_TIMEOUT_SECONDS)
        for pump in still_reading:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _pump(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:
                self._show("… (a line longer than 1 MiB was cut here)")
                continue
            if not raw:
                return
            self._show(raw.decode(errors="replace").rstrip("\r\n"))

    def _show(self, text: str) -> None:
        self._recent.append(text)
        self._console.line(self.source, text)


def _child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    # Children inherit the runner's environment (PATH, HOME, locale) plus their own settings.
    return {**os.environ, "PYTHONUNBUFFERED": "1", **overrides}
