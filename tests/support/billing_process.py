"""The billing service as a real process: ``billing-service serve`` on a free port of 127.0.0.1.

For tests that kill it as an operating system would (SIGKILL: nothing runs after it, no
lifespan shutdown, no lease given back) and start another in its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from local_processes import die_with_parent

from tests.support.serving import free_port

__all__ = ["BillingProcess", "billing_env", "launch_billing", "wait_until_ready"]

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
OUTPUT_TAIL_LINES = 80


def billing_env(settings: dict[str, str]) -> dict[str, str]:
    """The caller's environment with every ``BILLING_*`` variable replaced by ``settings``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("BILLING_")}
    env.update({f"BILLING_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class BillingProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-OUTPUT_TAIL_LINES:])

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited in time."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()


def launch_billing(settings: dict[str, str], log_path: Path) -> BillingProcess:
    """Start ``billing-service serve`` on a free port; it may not be ready yet."""
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "billing-service"),
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
            ],
            env=billing_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    return BillingProcess(process, port, log_path)


async def wait_until_ready(billing: BillingProcess, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Poll ``/health/ready`` until it answers 200; fail with billing's output if it exits or
    the deadline passes."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=billing.url, timeout=2) as client:
        while time.monotonic() < deadline:
            if billing.process.poll() is not None:
                raise AssertionError(
                    f"billing exited with {billing.process.returncode}:\n{billing.output()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/health/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"billing was not ready within {timeout:g} s:\n{billing.output()}")
