"""The gateway's admin API honours every pact that names it: the ``strangler`` command's and
the monolith's mail-flag poller's."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.contracts.verification import verify
from tests.support.gateway_process import launch_gateway, run_gateway_command, wait_until_ready
from tests.support.serving import free_port

ADMIN_TOKEN = "contract-admin-token-0123456789"


def test_the_gateway_admin_api_honours_its_consumers(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        "admin_token": ADMIN_TOKEN,
        "legacy_url": nowhere,
        "billing_url": nowhere,
        "auth_url": nowhere,
        "notifications_url": nowhere,
    }
    prepared = run_gateway_command(settings, "prepare")
    assert prepared.returncode == 0, prepared.stderr
    gateway = launch_gateway(settings, tmp_path / "gateway.log")
    try:
        asyncio.run(wait_until_ready(gateway))
        # A fresh gateway has its default flags; the kill switch starts off.
        verification = verify(
            "gateway-admin",
            gateway.admin_url,
            states={"the gateway routes with its default flags": lambda: None},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    finally:
        gateway.stop()
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 3
