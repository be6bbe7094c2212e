"""Charges and refunds: the simulator's record of where money moved, kept in its database
(``storage.SimulatorDatabase``). A write becomes durable with the unit's commit."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from payment_simulator.storage import SimulatorDatabase

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


_INSERT_CHARGE = (
    "INSERT INTO charges (id, amount, currency, card_last4, description, status, failure_code,"
    " created_at, amount_refunded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_CHARGES = (
    "SELECT id, amount, currency, card_last4, description, status, failure_code, created_at,"
    " amount_refunded FROM charges"
)


def _charge_of(row: tuple[Any, ...]) -> Charge:
    charge_id, amount, currency, last4, description, status, failure_code, created, refunded = row
    return Charge(
        id=charge_id,
        amount=amount,
        currency=currency,
        card_last4=last4,
        description=description,
        status=status,
        failure_code=failure_code,
        created_at=datetime.fromisoformat(created),
        amount_refunded=refunded,
    )


@dataclass
class Ledger:
    database: SimulatorDatabase
    clock: Clock = _utcnow

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
        self.database.connection.execute(
            _INSERT_CHARGE,
            (
                charge.id,
                charge.amount,
                charge.currency,
                charge.card_last4,
                charge.description,
                charge.status,
                charge.failure_code,
                charge.created_at.isoformat(),
                charge.amount_refunded,
            ),
        )
        return charge

    def charge(self, charge_id: str) -> Charge:
        row = self.database.connection.execute(
            _SELECT_CHARGES + " WHERE id = ?", (charge_id,)
        ).fetchone()
        if row is None:
            raise ChargeNotFound(charge_id)
        return _charge_of(row)

    def charges(self, *, limit: int, offset: int) -> tuple[list[Charge], int]:
        """One page of charges, newest first, and how many there are in all."""
        connection = self.database.connection
        rows = connection.execute(
            _SELECT_CHARGES + " ORDER BY position DESC LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        (total,) = connection.execute("SELECT count(*) FROM charges").fetchone()
        return [_charge_of(row) for row in rows], int(total)

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
        connection = self.database.connection
        connection.execute(
            "UPDATE charges SET amount_refunded = amount_refunded + ? WHERE id = ?",
            (requested, charge.id),
        )
        connection.execute(
            "INSERT INTO refunds (id, charge_id, amount, created_at) VALUES (?, ?, ?, ?)",
            (refund.id, refund.charge_id, refund.amount, refund.created_at.isoformat()),
        )
        return refund
