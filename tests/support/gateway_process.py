"""The gateway as a real process: ``strangler-gateway serve`` on a free port of 127.0.0.1.

Tests get it through the ``gateway_process`` fixture in tests/integration/gateway/conftest.py,
which stops every process it started; this module holds the mechanics.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from local_processes import die_with_parent

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
OUTPUT_TAIL_LINES = 60


def console_script(name: str) -> str:
    """A console script installed next to this interpreter."""
    return str(Path(sys.executable).parent / name)


def gateway_env(settings: dict[str, str]) -> dict[str, str]:
    """The caller's environment with every ``GATEWAY_*`` variable replaced by ``settings``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GATEWAY_")}
    env.update({f"GATEWAY_{name.upper()}": value for name, value in settings.items()})
    return env


def run_gateway_command(settings: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``strangler-gateway ARGS…`` to completion with these settings, output captured."""
    return subprocess.run(
        [console_script("strangler-gateway"), *args],
        env=gateway_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class GatewayProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        """The last lines the gateway printed."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-OUTPUT_TAIL_LINES:])

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)


def launch_gateway(settings: dict[str, str], log_path: Path) -> GatewayProcess:
    """Start ``strangler-gateway serve`` on a free port; it may not be ready yet."""
    port = _free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [console_script("strangler-gateway"), "serve", "--host", HOST, "--port", str(port)],
            env=gateway_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    return GatewayProcess(process, port, log_path)


async def wait_until_ready(gateway: GatewayProcess, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Poll ``/health/live`` until it answers; fail with the gateway's output if it exits or
    the deadline passes."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=gateway.url, timeout=2) as client:
        while time.monotonic() < deadline:
            if not gateway.is_running():
                raise AssertionError(
                    f"the gateway exited with {gateway.process.returncode}:\n{gateway.output()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/health/live")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"the gateway was not up within {timeout} s:\n{gateway.output()}")
