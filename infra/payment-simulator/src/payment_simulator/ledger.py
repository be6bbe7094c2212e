"""Charges and refunds, kept in memory: the simulator's record of where money moved."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "Charge",
    "ChargeNotFound",
    "ChargeNotRefundable",
    "ChargeStatus",
    "Ledger",
    "Refund",
    "RefundExceedsCharge",
]

ChargeStatus = Literal["succeeded", "failed"]
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Charge:
    id: str
    amount: int
    currency: str
    card_last4: str
    description: str | None
    status: ChargeStatus
    failure_code: str | None
    created_at: datetime
    amount_refunded: int = 0

    @property
    def refundable(self) -> int:
        return self.amount - self.amount_refunded if self.status == "succeeded" else 0


@dataclass(frozen=True)
class Refund:
    id: str
    charge_id: str
    amount: int
    created_at: datetime
    status: Literal["succeeded"] = "succeeded"


class ChargeNotFound(LookupError):
    def __init__(self, charge_id: str) -> None:
        super().__init__(f"No charge {charge_id!r}.")
        self.charge_id = charge_id


class ChargeNotRefundable(Exception):
    def __init__(self, charge: Charge) -> None:
        reason = "is fully refunded" if charge.status == "succeeded" else f"is {charge.status}"
        super().__init__(f"Charge {charge.id} {reason}; nothing can be refunded.")
        self.charge = charge


class RefundExceedsCharge(Exception):
    def __init__(self, charge: Charge, requested: int) -> None:
        super().__init__(
            f"Refund of {requested} exceeds the {charge.refundable} left on charge {charge.id}."
        )
        self.charge = charge
        self.requested = requested


@dataclass
class Ledger:
    clock: Clock = _utcnow
    _charges: dict[str, Charge] = field(default_factory=dict)
    _refunds: dict[str, Refund] = field(default_factory=dict)

    def record_charge(
        self,
        *,
        amount: int,
        currency: str,
        card_number: str,
        description: str | None,
        failure_code: str | None = None,
    ) -> Charge:
        """Record a charge; one with a ``failure_code`` is ``failed`` and moved no money."""
        charge = Charge(
            id=f"ch_{secrets.token_hex(12)}",
            amount=amount,
            currency=currency,
            card_last4=card_number[-4:],
            description=description,
            status="failed" if failure_code else "succeeded",
            failure_code=failure_code,
            created_at=self.clock(),
        )
        self._charges[charge.id] = charge
        return charge

    def charge(self, charge_id: str) -> Charge:
        try:
            return self._charges[charge_id]
        except KeyError:
            raise ChargeNotFound(charge_id) from None

    def charges(self, *, limit: int, offset: int) -> tuple[list[Charge], int]:
        """One page of charges, newest first, and how many there are in all."""
        newest_first = list(reversed(self._charges.values()))
        return newest_first[offset : offset + limit], len(newest_first)

    def refund(self, charge_id: str, amount: int | None = None) -> Refund:
        """Give back ``amount`` of a succeeded charge, or all that is left of it."""
        charge = self.charge(charge_id)
        if charge.refundable == 0:
            raise ChargeNotRefundable(charge)
        requested = charge.refundable if amount is None else amount
        if requested > charge.refundable:
            raise RefundExceedsCharge(charge, requested)
        refund = Refund(
            id=f"re_{secrets.token_hex(12)}",
            charge_id=charge.id,
            amount=requested,
            created_at=self.clock(),
        )
        charge.amount_refunded += requested
        self._refunds[refund.id] = refund
        return refund
