"""What happened inside billing, recorded by the aggregate it happened to.

These stay inside the service. The unit of work hands them to the outbox, where each
becomes the versioned contract event of the same name that other deployables read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "AccountClosureRefundDeclined",
    "BillingClosedForAccount",
    "DomainEvent",
    "InvoiceIssued",
    "PaymentFailed",
    "PaymentSucceeded",
    "RefundIssued",
    "SubscriptionActivated",
    "SubscriptionCancelled",
    "SubscriptionStarted",
]


@dataclass(frozen=True)
class DomainEvent:
    pass


@dataclass(frozen=True)
class SubscriptionStarted(DomainEvent):
    subscription_id: str
    customer_id: str
    plan_id: str
    period_start: datetime
    period_end: datetime
    started_at: datetime


@dataclass(frozen=True)
class SubscriptionActivated(DomainEvent):
    """A subscription started pending by a checkout was paid for; it is active from now."""

    subscription_id: str
    customer_id: str
    plan_id: str
    invoice_id: str
    activated_at: datetime


@dataclass(frozen=True)
class SubscriptionCancelled(DomainEvent):
    subscription_id: str
    customer_id: str
    cancelled_at: datetime
    voided_invoice_ids: tuple[str, ...]


@dataclass(frozen=True)
class InvoiceIssued(DomainEvent):
    invoice_id: str
    subscription_id: str
    customer_id: str
    amount_cents: int
    currency: str
    period_start: datetime
    period_end: datetime
    issued_at: datetime


@dataclass(frozen=True)
class PaymentSucceeded(DomainEvent):
    payment_id: str
    invoice_id: str
    subscription_id: str
    customer_id: str
    amount_cents: int
    currency: str
    provider_charge_id: str
    paid_at: datetime


@dataclass(frozen=True)
class PaymentFailed(DomainEvent):
    payment_id: str
    invoice_id: str
    subscription_id: str
    customer_id: str
    amount_cents: int
    currency: str
    failure_code: str
    failure_message: str
    failed_at: datetime


@dataclass(frozen=True)
class RefundIssued(DomainEvent):
    refund_id: str
    invoice_id: str
    payment_id: str
    subscription_id: str
    customer_id: str
    amount_cents: int
    currency: str
    invoice_refunded_cents: int
    refunded_at: datetime


@dataclass(frozen=True)
class BillingClosedForAccount(DomainEvent):
    """Billing's part of an account closure is done: subscription cancelled, unused part of
    its paid period refunded (either may be nothing)."""

    closure_id: str
    customer_id: str
    cancelled_subscription_id: str | None
    refund_id: str | None
    refunded_cents: int
    currency: str | None
    closed_at: datetime


@dataclass(frozen=True)
class AccountClosureRefundDeclined(DomainEvent):
    """The provider declined the refund a closure asked for: the closure is paused."""

    closure_id: str
    customer_id: str
    subscription_id: str
    invoice_id: str
    amount_cents: int
    currency: str
    reason: str
    declined_at: datetime
