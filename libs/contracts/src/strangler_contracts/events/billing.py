"""Events of the billing capability, on ``strangler.billing``, keyed by subscription id.

Invoices, payments and refunds belong to one subscription, so keying every billing event by
its subscription keeps a subscription's whole history in order on one partition.
"""

from __future__ import annotations

from datetime import datetime

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.topics import BILLING

__all__ = [
    "InvoiceIssued",
    "PaymentFailed",
    "PaymentSucceeded",
    "RefundIssued",
    "SubscriptionCancelled",
    "SubscriptionStarted",
]


class _BillingEvent(IntegrationEvent):
    topic = BILLING.name
    aggregate_field = "subscription_id"


class SubscriptionStarted(_BillingEvent):
    """A user subscribed to a plan; its first period began."""

    name = "billing.subscription-started"
    version = 1

    subscription_id: str
    user_id: str
    plan_id: str
    period_start: datetime
    period_end: datetime
    started_at: datetime


class SubscriptionCancelled(_BillingEvent):
    """A subscription ended; its unpaid invoices were voided."""

    name = "billing.subscription-cancelled"
    version = 1

    subscription_id: str
    user_id: str
    cancelled_at: datetime
    voided_invoice_ids: list[str]


class InvoiceIssued(_BillingEvent):
    """An invoice for one billing period of a subscription is due."""

    name = "billing.invoice-issued"
    version = 1

    invoice_id: str
    subscription_id: str
    user_id: str
    amount_cents: int
    currency: str
    period_start: datetime
    period_end: datetime
    issued_at: datetime


class PaymentSucceeded(_BillingEvent):
    """The provider captured the money for an invoice; the invoice is paid."""

    name = "billing.payment-succeeded"
    version = 1

    payment_id: str
    invoice_id: str
    subscription_id: str
    user_id: str
    amount_cents: int
    currency: str
    provider_charge_id: str
    paid_at: datetime


class PaymentFailed(_BillingEvent):
    """The provider declined a card for an invoice; the invoice is still open."""

    name = "billing.payment-failed"
    version = 1

    payment_id: str
    invoice_id: str
    subscription_id: str
    user_id: str
    amount_cents: int
    currency: str
    failure_code: str
    failure_message: str
    failed_at: datetime


class RefundIssued(_BillingEvent):
    """Money for a paid invoice went back to the customer, in full or in part."""

    name = "billing.refund-issued"
    version = 1

    refund_id: str
    invoice_id: str
    payment_id: str
    subscription_id: str
    user_id: str
    amount_cents: int
    currency: str
    invoice_refunded_cents: int
    refunded_at: datetime
