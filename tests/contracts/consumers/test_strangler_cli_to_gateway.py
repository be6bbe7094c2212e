"""The ``strangler`` command → the gateway's public listener, which it starts and supervises
like any component: the readiness probe ``strangler up`` waits for and ``strangler status``
shows (probes.py). Verified against a real gateway by tests/contracts/providers/test_gateway.py.
"""

from __future__ import annotations

from pact import Pact

from tests.contracts.consumers.probes import declare_readiness, runner_finds_it_ready
from tests.contracts.pacts import pact_dir


async def test_the_cli_finds_the_gateway_ready() -> None:
    pact = Pact("strangler-cli", "gateway").with_specification("V4")
    declare_readiness(pact)
    with pact.serve() as mock:
        await runner_finds_it_ready(str(mock.url))
    pact.write_file(pact_dir(), overwrite=True)
