"""The payment simulator's composition root: its ledger, processor and idempotency store."""

from __future__ import annotations

from dataclasses import dataclass

from payment_simulator.idempotency import IdempotencyStore
from payment_simulator.ledger import Ledger
from payment_simulator.processor import PaymentProcessor
from payment_simulator.settings import Settings
from payment_simulator.storage import SimulatorDatabase

__all__ = ["Simulator", "bootstrap"]


@dataclass(frozen=True)
class Simulator:
    """What the simulator's routes use."""

    processor: PaymentProcessor
    idempotency: IdempotencyStore


def bootstrap(settings: Settings) -> Simulator:
    """A simulator on its ledger: the file ``settings.state_path`` (kept across restarts), or
    memory. Opening SQLite is local and instant, so it is done here, with no lifespan."""
    database = SimulatorDatabase(settings.state_path)
    return Simulator(
        processor=PaymentProcessor(
            Ledger(database),
            hang_seconds=settings.hang_seconds,
            latency_seconds=settings.latency_ms / 1000,
        ),
        idempotency=IdempotencyStore(database),
    )
