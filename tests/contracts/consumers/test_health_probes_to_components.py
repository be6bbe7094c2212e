"""Pacts that hold a health probe alone (probes.py), one per pair: the ``strangler`` command's
readiness probe of the components it starts and supervises whose pacts with it hold nothing
else — the gateway's public listener, the payment simulator, the SMTP sink's mail viewer —
and the gateway breaker's liveness probe of its upstreams other than billing. (The probes of
the monolith, billing, auth and notifications by the command, and of billing by the gateway,
are in those pairs' own pacts.) Verified against each real process by its provider
verification.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from pact import Pact

from tests.contracts.consumers.probes import (
    declare_liveness,
    declare_readiness,
    gateway_finds_it_live,
    runner_finds_it_ready,
)
from tests.contracts.pacts import pact_dir

READINESS = (declare_readiness, runner_finds_it_ready)
LIVENESS = (declare_liveness, gateway_finds_it_live)
PAIRS = [
    ("strangler-cli", "gateway", READINESS),
    ("strangler-cli", "payment-simulator", READINESS),
    ("strangler-cli", "smtp-sink", READINESS),
    ("gateway", "legacy-monolith", LIVENESS),
    ("gateway", "auth", LIVENESS),
    ("gateway", "notifications", LIVENESS),
]


@pytest.mark.parametrize(
    ("consumer", "provider", "probe"), PAIRS, ids=[f"{c}-{p}" for c, p, _ in PAIRS]
)
async def test_the_consumers_probe_finds_the_provider_healthy(
    consumer: str,
    provider: str,
    probe: tuple[Callable[[Pact], None], Callable[[str], Awaitable[None]]],
) -> None:
    declare, finds_it_healthy = probe
    pact = Pact(consumer, provider).with_specification("V4")
    declare(pact)
    with pact.serve() as mock:
        await finds_it_healthy(str(mock.url))
    pact.write_file(pact_dir(), overwrite=True)
