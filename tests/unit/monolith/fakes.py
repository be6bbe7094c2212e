"""An in-memory payment provider that behaves like the payment simulator's test cards."""

from __future__ import annotations

from dataclasses import dataclass

from legacy_monolith.billing.payment_provider import (
    CardDeclined,
    Charge,
    ProviderRejected,
    ProviderTimeout,
    RefundReceipt,
)

from tests.support.monolith_api import DECLINED_CARD, HANGING_CARD

__all__ = ["FakePaymentProvider", "RecordedCharge", "RecordedRefund"]


@dataclass(frozen=True)
class RecordedCharge:
    charge: Charge
    description: str
    card_last4: str
    key: str


@dataclass(frozen=True)
class RecordedRefund:
    receipt: RefundReceipt
    charge_id: str
    key: str


class FakePaymentProvider:
    """Charges 4242…, declines 4000…0002, never answers for 4000…0077.

    Like the real provider it honours the idempotency key: a key that charged answers the
    same ``Charge`` again and charges nothing more.
    """

    def __init__(self) -> None:
        self.charges: list[RecordedCharge] = []
        self.refunds: list[RecordedRefund] = []
        self.closed = False
        self._charge_by_key: dict[str, Charge] = {}
        self._refund_by_key: dict[str, RefundReceipt] = {}

    async def charge(
        self, *, amount_cents: int, currency: str, card_number: str, description: str, key: str
    ) -> Charge:
        if key in self._charge_by_key:
            return self._charge_by_key[key]
        if card_number == DECLINED_CARD:
            raise CardDeclined("generic_decline", "Your card was declined.")
        if card_number == HANGING_CARD:
            raise ProviderTimeout("the card network did not answer")
        charge = Charge(f"ch_fake_{len(self.charges) + 1}", amount_cents, currency)
        self._charge_by_key[key] = charge
        self.charges.append(RecordedCharge(charge, description, card_number[-4:], key))
        return charge

    async def refund(self, *, charge_id: str, amount_cents: int, key: str) -> RefundReceipt:
        if key in self._refund_by_key:
            return self._refund_by_key[key]
        charged = [c.charge for c in self.charges if c.charge.charge_id == charge_id]
        if not charged:
            raise ProviderRejected(404, f"No charge {charge_id!r}.")
        refunded = sum(r.receipt.amount_cents for r in self.refunds if r.charge_id == charge_id)
        if amount_cents > charged[0].amount_cents - refunded:
            raise ProviderRejected(422, "The refund exceeds what is left of the charge.")
        receipt = RefundReceipt(f"re_fake_{len(self.refunds) + 1}", amount_cents)
        self._refund_by_key[key] = receipt
        self.refunds.append(RecordedRefund(receipt, charge_id, key))
        return receipt

    async def aclose(self) -> None:
        self.closed = True

    def charges_for(self, invoice_id: str) -> list[RecordedCharge]:
        """What was charged for one invoice; the monolith describes charges by invoice."""
        return [c for c in self.charges if c.description == f"Invoice {invoice_id}"]

    def refunds_for(self, charge_id: str) -> list[RecordedRefund]:
        return [r for r in self.refunds if r.charge_id == charge_id]
