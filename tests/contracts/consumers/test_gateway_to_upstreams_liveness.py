"""The gateway → the monolith, auth and notifications, besides the requests it proxies: its
breaker's probe, which closes an open circuit to an upstream once ``GET /health/live``
answers 200 (probes.py; billing's is in the gateway → billing pact). Verified against each
real upstream by its provider verification.
"""

from __future__ import annotations

import pytest
from pact import Pact

from tests.contracts.consumers.probes import declare_liveness, gateway_finds_it_live
from tests.contracts.pacts import pact_dir


@pytest.mark.parametrize("upstream", ["legacy-monolith", "auth", "notifications"])
async def test_the_gateways_breaker_finds_the_upstream_live(upstream: str) -> None:
    pact = Pact("gateway", upstream).with_specification("V4")
    declare_liveness(pact)
    with pact.serve() as mock:
        await gateway_finds_it_live(str(mock.url))
    pact.write_file(pact_dir(), overwrite=True)
