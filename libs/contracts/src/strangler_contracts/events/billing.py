"""Events of the billing capability, on ``strangler.billing``, keyed by customer (user id).

Billing's rules span a customer's subscriptions — one active at a time: cancel one, then
start another — so every billing event is keyed by its customer, which keeps a customer's
whole history (subscriptions, invoices, payments, refunds) in order on one partition. Keyed
by subscription, a copy could see a customer's new subscription before the cancellation of
the old one, and refuse it.

While billing is extracted, both the monolith and the billing service publish these events
and each applies the other's (two-way sync, see ``strangler_contracts.records``). For that,
every event also says which side made the change (``origin``) and which version of each
record it produced (``*_version``), plus the record fields a copy needs that the first
version of the event left out. They are optional: events written before the sync lack them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.mail import MailSentBy
from strangler_contracts.topics import BILLING

__all__ = [
    "InvoiceIssued",
    "PaymentFailed",
    "PaymentSucceeded",
    "RefundIssued",
    "SubscriptionActivated",
    "SubscriptionCancelled",
    "SubscriptionStarted",
]


def _version_of(record: str) -> Any:
    return Field(default=None, ge=1, description=f"The {record}'s version after this change.")


class _BillingEvent(IntegrationEvent):
    topic = BILLING.name
    aggregate_field = "user_id"

    origin: str | None = Field(
        default=None,
        description="The side that made the change: 'legacy-monolith' or 'billing'. "
        "Absent in events written before two-way sync; the envelope's source says it then.",
    )


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
    subscription_version: int | None = _version_of("subscription")
    status: str | None = Field(
        default=None,
        description="'active', or 'pending' when a checkout started it (until "
        "SubscriptionActivated). Absent: 'active'.",
    )


class SubscriptionActivated(_BillingEvent):
    """A subscription that billing's checkout started was paid for: it is active from now.

    The checkout announces the subscription as it starts (``SubscriptionStarted``), pending
    until its first invoice is paid; then this event. A checkout that fails ends it with
    ``SubscriptionCancelled`` instead. Only the billing service checks out.
    """

    name = "billing.subscription-activated"
    version = 1

    subscription_id: str
    user_id: str
    plan_id: str
    invoice_id: str = Field(description="The first invoice, whose payment activated it.")
    activated_at: datetime
    subscription_version: int | None = _version_of("subscription")


class SubscriptionCancelled(_BillingEvent):
    """A subscription ended; its unpaid invoices were voided."""

    name = "billing.subscription-cancelled"
    version = 1

    subscription_id: str
    user_id: str
    cancelled_at: datetime
    voided_invoice_ids: list[str]
    subscription_version: int | None = _version_of("subscription")
    voided_invoice_versions: dict[str, int] | None = Field(
        default=None, description="Each voided invoice's version after voiding, by invoice id."
    )


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
    invoice_version: int | None = _version_of("invoice")
    subscription_version: int | None = Field(
        default=None,
        ge=1,
        description="The subscription's version once this invoice's period became its "
        "current period (a renewal advances it; the first invoice leaves it as started).",
    )
    mail_sent_by: MailSentBy = None


class _PaymentOutcome(_BillingEvent):
    """What a copy of the payment needs besides the outcome (optional, see the module)."""

    invoice_version: int | None = _version_of("invoice")
    payment_version: int | None = _version_of("payment")
    idempotency_key: str | None = Field(
        default=None, description="The key the customer paid under (one payment per key)."
    )
    card_last4: str | None = None
    payment_created_at: datetime | None = Field(
        default=None, description="When the first attempt of this payment was recorded."
    )
    attempted_at: datetime | None = Field(
        default=None, description="When the attempt that ended this way started."
    )
    mail_sent_by: MailSentBy = None


class PaymentSucceeded(_PaymentOutcome):
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


class PaymentFailed(_PaymentOutcome):
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
    invoice_status: str | None = Field(
        default=None, description="'refunded' or 'partially_refunded' after this refund."
    )
    refund_version: int | None = _version_of("refund")
    invoice_version: int | None = _version_of("invoice")
    idempotency_key: str | None = Field(
        default=None, description="The key the refund was asked under (one refund per key)."
    )
    reason: str | None = None
    provider_refund_id: str | None = None
    mail_sent_by: MailSentBy = None
