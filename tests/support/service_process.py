"""A deployable as a real process on a free port of 127.0.0.1: started with its console
script, its ``<PREFIX>_*`` settings, its output in a log file; stopped, or killed as an
operating system would (SIGKILL: nothing runs after it, no lifespan shutdown).

Tests that start such processes stop every one of them in a fixture's ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from local_processes import ChildProcess

from tests.support.serving import HOST, free_port

__all__ = [
    "HOST",
    "ServiceProcess",
    "console_script",
    "env_with",
    "launch",
    "wait_until_ready",
]

READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
OUTPUT_TAIL_LINES = 80


def console_script(name: str) -> str:
    """A console script installed next to this interpreter."""
    return str(Path(sys.executable).parent / name)


def env_with(prefix: str, settings: dict[str, str]) -> dict[str, str]:
    """The caller's environment with every ``<PREFIX>_*`` variable replaced by ``settings``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(prefix)}
    env.update({f"{prefix}{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class ServiceProcess:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    ready_path: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        """The last lines the process printed."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-OUTPUT_TAIL_LINES:])

    def is_running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        ChildProcess(self.process).kill()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
        ChildProcess(self.process).stop(timeout)


def launch(
    name: str, script: str, env: dict[str, str], log_path: Path, *, ready_path: str
) -> ServiceProcess:
    """Start ``SCRIPT serve`` on a free port; it may not be ready yet."""
    port = free_port()
    with log_path.open("ab") as log:
        process = ChildProcess.start(
            [console_script(script), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdout=log,
        ).process
    return ServiceProcess(name, process, port, log_path, ready_path)


async def wait_until_ready(service: ServiceProcess, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Poll its readiness path until it answers 200; fail with its output if it exits or the
    deadline passes."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=service.url, timeout=2) as client:
        while time.monotonic() < deadline:
            if not service.is_running():
                raise AssertionError(
                    f"{service.name} exited with {service.process.returncode}:\n{service.output()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(service.ready_path)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{service.name} was not ready within {timeout:g} s:\n{service.output()}")
