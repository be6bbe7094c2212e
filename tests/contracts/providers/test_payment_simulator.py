"""The payment simulator honours every pact that names it: billing's and the monolith's
(charges, declines, refunds)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.contracts.verification import provider_process, verify


def test_the_payment_simulator_honours_its_consumers(tmp_path: Path) -> None:
    with provider_process("payment-simulator", "payment-simulator", {}, tmp_path) as simulator:

        def a_charge() -> dict[str, object]:
            # Charged through the simulator's own API, with a key of its own: the refund
            # that follows names this charge's id.
            charged = httpx.post(
                f"{simulator.url}/v1/charges",
                json={
                    "amount": 1999,
                    "currency": "USD",
                    "card_number": "4242424242424242",
                    "description": "to refund",
                },
                headers={"Idempotency-Key": f"contract-{uuid.uuid4()}"},
                timeout=30,
            )
            assert charged.status_code == 201, charged.text
            return {"charge_id": charged.json()["id"]}

        # The card catalogue is the simulator's fixed state: every card's state holds as is.
        verification = verify(
            "payment-simulator",
            simulator.url,
            states={
                "the card 4242424242424242 is approved": lambda: None,
                "the card 4000000000009995 is declined for insufficient funds": lambda: None,
                "a charge of 1999 USD succeeded on the card 4242424242424242": a_charge,
            },
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 6
