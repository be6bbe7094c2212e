"""The ``strangler`` command → the payment simulator, which it starts and supervises like any
component: the readiness probe ``strangler up`` waits for and ``strangler status`` shows
(probes.py). Verified against the real simulator by
tests/contracts/providers/test_payment_simulator.py.
"""

from __future__ import annotations

from pact import Pact

from tests.contracts.consumers.probes import declare_readiness, runner_finds_it_ready
from tests.contracts.pacts import pact_dir


async def test_the_cli_finds_the_payment_simulator_ready() -> None:
    pact = Pact("strangler-cli", "payment-simulator").with_specification("V4")
    declare_readiness(pact)
    with pact.serve() as mock:
        await runner_finds_it_ready(str(mock.url))
    pact.write_file(pact_dir(), overwrite=True)
