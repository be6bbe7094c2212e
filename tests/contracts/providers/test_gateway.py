"""The gateway's public listener honours every pact that names it: the ``strangler``
command's readiness probe (the admin API's pacts are verified on the operator listener by
test_gateway_admin.py)."""

from __future__ import annotations

from pathlib import Path

from tests.contracts.providers.gateway_state import gateway_process
from tests.contracts.verification import verify


def test_the_gateway_honours_its_consumers(tmp_path: Path) -> None:
    with gateway_process(tmp_path) as gateway:
        verification = verify("gateway", gateway.url)
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 1
