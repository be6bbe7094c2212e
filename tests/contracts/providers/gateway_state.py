"""A real gateway process on SQLite, as the verifications of its pacts need it (its upstreams
on ports nobody listens on: nothing a pact asks of it is proxied) and as a consumer test of
what it proxies needs it (one upstream given: Pact's mock server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.gateway_process import (
    GatewayProcess,
    launch_gateway,
    run_gateway_command,
    wait_until_ready,
)
from tests.support.serving import free_port

__all__ = ["ADMIN_TOKEN", "gateway_process"]

ADMIN_TOKEN = "contract-admin-token-0123456789"


@contextmanager
def gateway_process(log_dir: Path, **upstreams: str) -> Iterator[GatewayProcess]:
    """``upstreams`` (``billing_url=…``) replace the ports nobody listens on."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = {
        "database_url": f"sqlite+aiosqlite:///{log_dir / 'gateway.db'}",
        "admin_token": ADMIN_TOKEN,
        "legacy_url": nowhere,
        "billing_url": nowhere,
        "auth_url": nowhere,
        "notifications_url": nowhere,
        **upstreams,
    }
    prepared = run_gateway_command(settings, "prepare")
    assert prepared.returncode == 0, prepared.stderr
    gateway = launch_gateway(settings, log_dir / "gateway.log")
    try:
        asyncio.run(wait_until_ready(gateway))
        yield gateway
    finally:
        gateway.stop()
