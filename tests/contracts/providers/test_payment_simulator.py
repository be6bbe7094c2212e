"""The payment simulator honours every pact that names it (billing's)."""

from __future__ import annotations

from pathlib import Path

from tests.contracts.verification import provider_process, verify


def test_the_payment_simulator_honours_its_consumers(tmp_path: Path) -> None:
    with provider_process("payment-simulator", "payment-simulator", {}, tmp_path) as simulator:
        # The card catalogue is the simulator's fixed state: every card's state holds as is.
        verification = verify(
            "payment-simulator",
            simulator.url,
            states={
                "the card 4242424242424242 is approved": lambda: None,
                "the card 4000000000009995 is declined for insufficient funds": lambda: None,
            },
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 2
