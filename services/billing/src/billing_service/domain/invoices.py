"""An invoice for one period of a subscription, and the state machine of collecting it.

::

    open ──start_payment──▶ processing ──settle──▶ paid ──record_refund──▶ partially_refunded
     │ ▲                        │                    └────────────┬──────────────┘
     │ └──decline / interrupt───┘                                 ▼ (all of it)
     └──void (subscription cancelled)──▶ void                   refunded

A processing invoice can be taken over only by a retry of the same payment whose attempt
was abandoned (its process died mid-call), so the provider is asked again under the same key.

An invoice is its own aggregate: it knows its subscription by id only, and the service
layer tells it when that subscription ends (``void_for``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

from billing_service.domain.errors import (
    BillingError,
    InvoiceAlreadyPaid,
    InvoiceNotPayable,
    InvoiceNotRefundable,
    PaymentInProgress,
    RefundExceedsPayment,
)
from billing_service.domain.events import (
    InvoiceIssued,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
)
from billing_service.domain.records import BILLING, FIRST_VERSION, Aggregate
from billing_service.domain.refunds import Refund

if TYPE_CHECKING:
    from billing_service.domain.payments import Payment
    from billing_service.domain.plans import Plan

__all__ = ["PAID", "Invoice", "InvoiceStatus"]

InvoiceStatus = Literal["open", "processing", "paid", "partially_refunded", "refunded", "void"]

PAID: Final[frozenset[InvoiceStatus]] = frozenset({"paid", "partially_refunded", "refunded"})
REFUNDABLE: Final[frozenset[InvoiceStatus]] = frozenset({"paid", "partially_refunded"})


class Invoice(Aggregate):
    subscription_id: str
    customer_id: str
    amount_cents: int
    amount_refunded_cents: int
    currency: str
    period_start: datetime
    period_end: datetime
    status: InvoiceStatus
    issued_at: datetime
    paid_at: datetime | None

    def __init__(
        self,
        *,
        id: str,
        subscription_id: str,
        customer_id: str,
        amount_cents: int,
        currency: str,
        period_start: datetime,
        period_end: datetime,
        issued_at: datetime,
        status: InvoiceStatus = "open",
        amount_refunded_cents: int = 0,
        paid_at: datetime | None = None,
        origin: str = BILLING,
    ) -> None:
        self.id = id
        self.subscription_id = subscription_id
        self.customer_id = customer_id
        self.amount_cents = amount_cents
        self.amount_refunded_cents = amount_refunded_cents
        self.currency = currency
        self.period_start = period_start
        self.period_end = period_end
        self.status = status
        self.issued_at = issued_at
        self.paid_at = paid_at
        self.origin = origin
        self.version = FIRST_VERSION
        self.events = []

    @classmethod
    def issue(
        cls,
        *,
        id: str,
        subscription_id: str,
        customer_id: str,
        period_start: datetime,
        period_end: datetime,
        plan: Plan,
        now: datetime,
    ) -> Invoice:
        """The invoice for one period of a subscription, at the plan's price."""
        invoice = cls(
            id=id,
            subscription_id=subscription_id,
            customer_id=customer_id,
            amount_cents=plan.price_cents,
            currency=plan.currency,
            period_start=period_start,
            period_end=period_end,
            issued_at=now,
        )
        invoice.record(
            InvoiceIssued(
                invoice_id=invoice.id,
                subscription_id=invoice.subscription_id,
                customer_id=invoice.customer_id,
                amount_cents=invoice.amount_cents,
                currency=invoice.currency,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
                issued_at=invoice.issued_at,
            )
        )
        return invoice

    def void_for(self, subscription_id: str) -> bool:
        """Void it because its subscription ended; only an open invoice of it is voided."""
        if self.subscription_id != subscription_id or self.status != "open":
            return False
        self.status = "void"
        return True

    def refusal_to_pay(self) -> BillingError:
        """Why this invoice cannot be paid now."""
        if self.status == "processing":
            return PaymentInProgress(self.id)
        if self.status in PAID:
            return InvoiceAlreadyPaid(self.id)
        return InvoiceNotPayable(self.id, self.status)

    def start_payment(self, *, resuming_abandoned: bool = False) -> None:
        """Claim the invoice for one payment attempt, so no other attempt runs beside it."""
        claimable = self.status == "open" or (resuming_abandoned and self.status == "processing")
        if not claimable:
            raise self.refusal_to_pay()
        self.status = "processing"

    def settle(self, payment: Payment, *, charge_id: str, at: datetime) -> None:
        """The provider captured the money: the invoice is paid."""
        payment.status = "succeeded"
        payment.provider_charge_id = charge_id
        payment.completed_at = at
        self.status = "paid"
        self.paid_at = at
        self.record(
            PaymentSucceeded(
                payment_id=payment.id,
                invoice_id=self.id,
                subscription_id=self.subscription_id,
                customer_id=payment.customer_id,
                amount_cents=payment.amount_cents,
                currency=payment.currency,
                provider_charge_id=charge_id,
                paid_at=at,
            )
        )

    def decline(self, payment: Payment, *, code: str, message: str, at: datetime) -> None:
        """The provider declined the card: the invoice is open again for another card."""
        payment.status = "failed"
        payment.failure_code = code
        payment.failure_message = message
        payment.completed_at = at
        self.status = "open"
        self.record(
            PaymentFailed(
                payment_id=payment.id,
                invoice_id=self.id,
                subscription_id=self.subscription_id,
                customer_id=payment.customer_id,
                amount_cents=payment.amount_cents,
                currency=payment.currency,
                failure_code=code,
                failure_message=message,
                failed_at=at,
            )
        )

    def interrupt(self, payment: Payment, *, timed_out: bool, reason: str, at: datetime) -> None:
        """No answer from the provider: nothing is known to be charged, the invoice is open."""
        payment.status = "timed_out" if timed_out else "interrupted"
        payment.failure_message = reason
        payment.completed_at = at
        self.status = "open"

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def is_paid(self) -> bool:
        return self.status in PAID

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.amount_refunded_cents

    def refund_amount(self, requested_cents: int | None) -> int:
        """What a refund of ``requested_cents`` (all that is left when None) may give back."""
        if self.status not in REFUNDABLE:
            raise InvoiceNotRefundable(self.id, self.status)
        remaining = self.refundable_cents
        amount = remaining if requested_cents is None else requested_cents
        if amount > remaining:
            raise RefundExceedsPayment(remaining, self.currency)
        return amount

    def record_refund(
        self,
        *,
        id: str,
        payment: Payment,
        idempotency_key: str,
        amount_cents: int,
        reason: str | None,
        provider_refund_id: str,
        at: datetime,
    ) -> Refund:
        """The provider gave ``amount_cents`` back; the provider is the authority on limits."""
        refund = Refund(
            id=id,
            invoice_id=self.id,
            payment_id=payment.id,
            idempotency_key=idempotency_key,
            amount_cents=amount_cents,
            currency=self.currency,
            reason=reason,
            provider_refund_id=provider_refund_id,
            created_at=at,
        )
        self.amount_refunded_cents += amount_cents
        self.status = (
            "refunded" if self.amount_refunded_cents >= self.amount_cents else "partially_refunded"
        )
        self.record(
            RefundIssued(
                refund_id=refund.id,
                invoice_id=self.id,
                payment_id=payment.id,
                subscription_id=self.subscription_id,
                customer_id=self.customer_id,
                amount_cents=amount_cents,
                currency=self.currency,
                invoice_refunded_cents=self.amount_refunded_cents,
                refunded_at=at,
            )
        )
        return refund
