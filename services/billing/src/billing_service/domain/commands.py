"""What billing is asked to do, one small class per request, named in the imperative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "AddCustomer",
    "CancelSubscription",
    "Checkout",
    "Command",
    "PayInvoice",
    "RefundInvoice",
    "RenameCustomer",
    "Subscribe",
]


@dataclass(frozen=True)
class Command:
    pass


@dataclass(frozen=True)
class AddCustomer(Command):
    """Someone registered elsewhere; ``origin`` names who told billing."""

    customer_id: str
    email: str
    name: str
    registered_at: datetime
    origin: str


@dataclass(frozen=True)
class RenameCustomer(Command):
    """A user changed their name, on whichever side serves accounts."""

    customer_id: str
    name: str


@dataclass(frozen=True)
class Subscribe(Command):
    customer_id: str
    plan_id: str


@dataclass(frozen=True)
class Checkout(Command):
    """Subscribe to a plan and pay its first invoice, as one saga: all of it, or none."""

    customer_id: str
    plan_id: str
    card_number: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CancelSubscription(Command):
    customer_id: str
    subscription_id: str


@dataclass(frozen=True)
class PayInvoice(Command):
    customer_id: str
    invoice_id: str
    card_number: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RefundInvoice(Command):
    customer_id: str
    invoice_id: str
    amount_cents: int | None = None
    reason: str | None = None
    idempotency_key: str | None = None
