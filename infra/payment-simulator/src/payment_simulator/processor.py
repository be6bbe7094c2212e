"""The card processor: decides each charge by its test card and writes the outcome down."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from payment_simulator.cards import (
    Decline,
    Hang,
    behaviour_of,
    declines_refunds,
    parse_card_number,
)
from payment_simulator.ledger import Charge, Ledger, Refund

__all__ = ["PaymentProcessor", "ProcessorTimeout", "RefundDeclined"]


class ProcessorTimeout(Exception):
    """The card network never answered; no charge was recorded, so a retry is safe."""


class RefundDeclined(Exception):
    """The card's issuer refused the refund; no money moved, and asking again changes nothing."""

    def __init__(self, charge: Charge) -> None:
        super().__init__(f"The issuer of the card of charge {charge.id} declined the refund.")
        self.charge = charge


@dataclass
class PaymentProcessor:
    ledger: Ledger
    hang_seconds: float = 30.0
    latency_seconds: float = 0.0

    async def charge(
        self, *, amount: int, currency: str, card_number: str, description: str | None
    ) -> Charge:
        """A ``succeeded`` or ``failed`` (declined) charge, or ``ProcessorTimeout``."""
        number = parse_card_number(card_number)
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        behaviour = behaviour_of(number)
        if isinstance(behaviour, Hang):
            await asyncio.sleep(self.hang_seconds)
            raise ProcessorTimeout
        failure_code = behaviour.code if isinstance(behaviour, Decline) else None
        return self.ledger.record_charge(
            amount=amount,
            currency=currency,
            card_number=number,
            description=description,
            failure_code=failure_code,
        )

    def refund(self, charge_id: str, amount: int | None) -> Refund:
        """A refund of ``amount`` (all that is left when None), or ``RefundDeclined``."""
        charge = self.ledger.charge(charge_id)
        if charge.status == "succeeded" and declines_refunds(charge.card_last4):
            raise RefundDeclined(charge)
        return self.ledger.refund(charge_id, amount)
