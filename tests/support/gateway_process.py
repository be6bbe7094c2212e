"""The gateway as a real process: ``strangler-gateway serve`` on a free port.

Tests get it through the ``gateway_process`` fixture in tests/integration/gateway/conftest.py,
which stops every process it started.
"""

from __future__ import annotations

import dataclasses
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.service_process import (
    HOST,
    READY_TIMEOUT_SECONDS,
    ServiceProcess,
    console_script,
    env_with,
    launch,
)
from tests.support.service_process import wait_until_ready as wait_until_service_ready
from tests.support.serving import free_port

__all__ = [
    "HOST",
    "GatewayProcess",
    "gateway_env",
    "launch_gateway",
    "run_gateway_command",
    "wait_until_ready",
]


@dataclass
class GatewayProcess(ServiceProcess):
    """``url`` is the public entry; ``admin_url`` the operator listener (admin API, metrics)."""

    admin_port: int = 0

    @property
    def admin_url(self) -> str:
        return f"http://{HOST}:{self.admin_port}"


def gateway_env(settings: dict[str, str]) -> dict[str, str]:
    return env_with("GATEWAY_", settings)


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


def launch_gateway(settings: dict[str, str], log_path: Path) -> GatewayProcess:
    """Start ``strangler-gateway serve`` on free ports; it may not be ready yet."""
    admin_port = int(settings.get("admin_port") or free_port())
    env = gateway_env({**settings, "admin_port": str(admin_port)})
    process = launch("the gateway", "strangler-gateway", env, log_path, ready_path="/health/live")
    fields = {field.name: getattr(process, field.name) for field in dataclasses.fields(process)}
    return GatewayProcess(**fields, admin_port=admin_port)


async def wait_until_ready(gateway: ServiceProcess, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Both listeners answer: the public entry first, then (a gateway's) operator listener."""
    await wait_until_service_ready(gateway, timeout)
    if isinstance(gateway, GatewayProcess):
        operator = dataclasses.replace(gateway, port=gateway.admin_port)
        await wait_until_service_ready(operator, timeout)
