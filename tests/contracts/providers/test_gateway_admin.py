"""The gateway's admin API honours every pact that names it: the ``strangler`` command's and
the monolith's mail-flag poller's.

Provider states go through the admin API itself: the defaults are the kill switch off and
billing served by legacy; a changed flag is billing set to canary by an operator."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.contracts.providers.gateway_state import ADMIN_TOKEN, gateway_process
from tests.contracts.verification import verify


def test_the_gateway_admin_api_honours_its_consumers(tmp_path: Path) -> None:
    with (
        gateway_process(tmp_path) as gateway,
        httpx.Client(
            base_url=f"{gateway.admin_url}/_strangler",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Strangler-Actor": "contracts"},
            timeout=60,
        ) as operator,
    ):

        def change(method: str, path: str, body: dict[str, object]) -> None:
            operator.request(method, path, json=body).raise_for_status()

        def default_flags() -> None:
            change("POST", "/kill-switch", {"state": "off", "reason": "provider state"})
            change("PUT", "/flags/billing", {"mode": "legacy", "percent": 0, "reason": "reset"})

        def billing_changed() -> None:
            # From one stored flag to another: a route's first change has no old document.
            default_flags()
            change("PUT", "/flags/billing", {"mode": "canary", "percent": 10, "reason": "a few"})

        verification = verify(
            "gateway-admin",
            gateway.admin_url,
            states={
                "the gateway routes with its default flags": default_flags,
                "billing's flag has been changed at the gateway": billing_changed,
            },
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 6
