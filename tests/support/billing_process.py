"""The billing service as a real process: ``billing-service serve`` on a free port.

For tests that kill it as an operating system would and start another in its place.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.service_process import ServiceProcess, env_with, launch, wait_until_ready

__all__ = ["BillingProcess", "billing_env", "launch_billing", "wait_until_ready"]

BillingProcess = ServiceProcess


def billing_env(settings: dict[str, str]) -> dict[str, str]:
    return env_with("BILLING_", settings)


def launch_billing(settings: dict[str, str], log_path: Path) -> BillingProcess:
    """Start ``billing-service serve`` on a free port; it may not be ready yet."""
    return launch(
        "billing", "billing-service", billing_env(settings), log_path, ready_path="/health/ready"
    )
