"""The gateway's admin API honours every pact that names it: the ``strangler`` command's and
the monolith's mail-flag poller's.

Provider states go through the admin API itself: the defaults are the kill switch off and
billing served by legacy; a changed flag is billing set to canary by an operator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

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
        operator = httpx.Client(
            base_url=f"{gateway.admin_url}/_strangler",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Strangler-Actor": "contracts"},
            timeout=60,
        )

        def change(method: str, path: str, body: dict[str, object]) -> None:
            operator.request(method, path, json=body).raise_for_status()

        def default_flags() -> None:
            change("POST", "/kill-switch", {"state": "off", "reason": "provider state"})
            change("PUT", "/flags/billing", {"mode": "legacy", "percent": 0, "reason": "reset"})

        def billing_changed() -> None:
            change("PUT", "/flags/billing", {"mode": "canary", "percent": 10, "reason": "a few"})

        with operator:
            verification = verify(
                "gateway-admin",
                gateway.admin_url,
                states={
                    "the gateway routes with its default flags": default_flags,
                    "billing's flag has been changed at the gateway": billing_changed,
                },
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
    finally:
        gateway.stop()
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 6
