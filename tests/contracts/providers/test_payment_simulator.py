"""The payment simulator honours every pact that names it: billing's and the monolith's
(charges, declines, refunds, a processor timeout, a key reused) and the ``strangler``
command's readiness probe. The hanging card hangs a tenth of a second here."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.contracts.verification import provider_process, verify


def test_the_payment_simulator_honours_its_consumers(tmp_path: Path) -> None:
    settings = {"PAYSIM_HANG_SECONDS": "0.1"}
    with provider_process(
        "payment-simulator", "payment-simulator", settings, tmp_path
    ) as simulator:

        def a_charge() -> dict[str, object]:
            # Charged through the simulator's own API, with a key of its own: the refund
            # that follows names this charge's id, a charge reusing the key names the key.
            key = f"contract-{uuid.uuid4()}"
            charged = httpx.post(
                f"{simulator.url}/v1/charges",
                json={
                    "amount": 1999,
                    "currency": "USD",
                    "card_number": "4242424242424242",
                    "description": "to refund",
                },
                headers={"Idempotency-Key": key},
                timeout=30,
            )
            assert charged.status_code == 201, charged.text
            return {"charge_id": charged.json()["id"], "charge_key": key}

        # The card catalogue is the simulator's fixed state: every card's state holds as is.
        verification = verify(
            "payment-simulator",
            simulator.url,
            states={
                "the card 4242424242424242 is approved": lambda: None,
                "the card 4000000000009995 is declined for insufficient funds": lambda: None,
                "a charge of 1999 USD succeeded on the card 4242424242424242": a_charge,
                "the card 4000000000000077 hangs, then the processor times out": lambda: None,
            },
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 11
