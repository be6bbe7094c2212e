"""The ``strangler`` command → the components it starts and supervises whose pacts hold
nothing else: the readiness probe ``strangler up`` waits for and ``strangler status`` shows
(probes.py) — the gateway's on its public listener, the payment simulator's, and the SMTP
sink's on its mail viewer. (The monolith's, billing's, auth's and notifications' are in their
own pacts with the command.) Verified against each real process by its provider verification.
"""

from __future__ import annotations

import pytest
from pact import Pact

from tests.contracts.consumers.probes import declare_readiness, runner_finds_it_ready
from tests.contracts.pacts import pact_dir


@pytest.mark.parametrize("component", ["gateway", "payment-simulator", "smtp-sink"])
async def test_the_cli_finds_the_component_ready(component: str) -> None:
    pact = Pact("strangler-cli", component).with_specification("V4")
    declare_readiness(pact)
    with pact.serve() as mock:
        await runner_finds_it_ready(str(mock.url))
    pact.write_file(pact_dir(), overwrite=True)
