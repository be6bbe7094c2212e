"""The gateway as a real process: ``strangler-gateway serve`` on a free port.

Tests get it through the ``gateway_process`` fixture in tests/integration/gateway/conftest.py,
which stops every process it started.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.service_process import (
    HOST,
    ServiceProcess,
    console_script,
    env_with,
    launch,
    wait_until_ready,
)

__all__ = [
    "HOST",
    "GatewayProcess",
    "gateway_env",
    "launch_gateway",
    "run_gateway_command",
    "wait_until_ready",
]

GatewayProcess = ServiceProcess


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
    """Start ``strangler-gateway serve`` on a free port; it may not be ready yet."""
    return launch(
        "the gateway", "strangler-gateway", gateway_env(settings), log_path,
        ready_path="/health/live",
    )  # fmt: skip
