"""One child of the runner: a `local_processes.AsyncChildProcess` whose output is streamed to
the console line by line, prefixed with its name, the last lines kept for failure reports."""

import asyncio
import os
from collections import deque
from collections.abc import Mapping, Sequence

from local_processes import AsyncChildProcess

from strangler_runner.console import RunnerConsole

__all__ = ["RunnerChild"]

_LINE_LIMIT_BYTES = 1024 * 1024
_RECENT_LINES_KEPT = 20
_DRAIN_TIMEOUT_SECONDS = 2.0


class RunnerChild:
    def __init__(self, source: str, child: AsyncChildProcess, console: RunnerConsole):
        self.source = source
        self._child = child
        self._console = console
        self._recent: deque[str] = deque(maxlen=_RECENT_LINES_KEPT)
        self._pumps = [
            asyncio.create_task(self._pump(stream))
            for stream in (child.process.stdout, child.process.stderr)
            if stream is not None
        ]

    @classmethod
    async def start(
        cls,
        source: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        console: RunnerConsole,
    ) -> "RunnerChild":
        child = await AsyncChildProcess.start(
            argv, env=_child_environment(env), line_limit_bytes=_LINE_LIMIT_BYTES
        )
        return cls(source, child, console)

    @property
    def pid(self) -> int:
        return self._child.pid

    @property
    def returncode(self) -> int | None:
        return self._child.returncode

    @property
    def recent_lines(self) -> list[str]:
        return list(self._recent)

    async def wait(self) -> int:
        return await self._child.wait()

    async def stop(self, timeout_seconds: float) -> int:
        """SIGTERM its process group, SIGKILL it after `timeout_seconds`; nothing left behind."""

        def killing() -> None:
            self._console.note(
                f"{self.source} still running {timeout_seconds:g} s after SIGTERM; killing it"
            )

        returncode = await self._child.stop(timeout_seconds, on_kill=killing)
        await self._drain()
        return returncode

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
