"""Every way a billing request can be refused, named by its condition.

Each carries the facts an answer needs; the HTTP entrypoint maps each to its problem
document once (``entrypoints/problems.py``).
"""

from __future__ import annotations

__all__ = [
    "AlreadySubscribed",
    "BillingError",
    "CardWasDeclined",
    "CheckoutKeyReused",
    "CheckoutNotFound",
    "CustomerUnknown",
    "IdempotencyKeyReused",
    "InvoiceAlreadyPaid",
    "InvoiceNotFound",
    "InvoiceNotPaid",
    "InvoiceNotPayable",
    "InvoiceNotRefundable",
    "NoCapturedPayment",
    "PaymentInProgress",
    "PaymentProviderTimedOut",
    "PaymentProviderUnavailable",
    "RefundExceedsPayment",
    "RefundRejected",
    "SubscriptionNotActive",
    "SubscriptionNotFound",
    "SubscriptionNotPending",
    "UnknownPlan",
]


class BillingError(Exception):
    pass


class CustomerUnknown(BillingError):
    """Billing has not (yet) received the registration of this user."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"no customer '{customer_id}' yet")
        self.customer_id = customer_id


class UnknownPlan(BillingError):
    def __init__(self, plan_id: str) -> None:
        super().__init__(f"no active plan '{plan_id}'")
        self.plan_id = plan_id


class AlreadySubscribed(BillingError):
    def __init__(self, subscription_id: str, plan_id: str) -> None:
        super().__init__(f"subscription '{subscription_id}' is active")
        self.subscription_id = subscription_id
        self.plan_id = plan_id


class SubscriptionNotFound(BillingError):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"no subscription '{subscription_id}'")
        self.subscription_id = subscription_id


class SubscriptionNotActive(BillingError):
    def __init__(self, subscription_id: str, status: str) -> None:
        super().__init__(f"subscription '{subscription_id}' is {status}")
        self.subscription_id = subscription_id
        self.status = status


class InvoiceNotFound(BillingError):
    def __init__(self, invoice_id: str) -> None:
        super().__init__(f"no invoice '{invoice_id}'")
        self.invoice_id = invoice_id


class PaymentInProgress(BillingError):
    def __init__(self, invoice_id: str) -> None:
        super().__init__(f"invoice '{invoice_id}' is being paid")
        self.invoice_id = invoice_id


class InvoiceAlreadyPaid(BillingError):
    def __init__(self, invoice_id: str) -> None:
        super().__init__(f"invoice '{invoice_id}' is paid")
        self.invoice_id = invoice_id


class InvoiceNotPayable(BillingError):
    def __init__(self, invoice_id: str, status: str) -> None:
        super().__init__(f"invoice '{invoice_id}' is {status}")
        self.invoice_id = invoice_id
        self.status = status


class IdempotencyKeyReused(BillingError):
    """The key already paid for another invoice of the same customer."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key '{key}' was used for another invoice")
        self.key = key


class CardWasDeclined(BillingError):
    def __init__(self, invoice_id: str, payment_id: str, code: str, message: str) -> None:
        super().__init__(message)
        self.invoice_id = invoice_id
        self.payment_id = payment_id
        self.code = code
        self.message = message


class PaymentProviderTimedOut(BillingError):
    """Nothing is known to be charged; a retry with the same key resumes the attempt.

    ``nothing_charged``: the provider itself answered that it timed out and recorded no
    charge, so this attempt certainly took no money.
    """

    def __init__(self, invoice_id: str, payment_id: str, *, nothing_charged: bool = False) -> None:
        super().__init__(f"the provider did not answer for invoice '{invoice_id}'")
        self.invoice_id = invoice_id
        self.payment_id = payment_id
        self.nothing_charged = nothing_charged


class PaymentProviderUnavailable(BillingError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvoiceNotRefundable(BillingError):
    def __init__(self, invoice_id: str, status: str) -> None:
        super().__init__(f"invoice '{invoice_id}' is {status}")
        self.invoice_id = invoice_id
        self.status = status


class NoCapturedPayment(BillingError):
    """The invoice counts as paid, but no payment with a provider charge stands behind it."""

    def __init__(self, invoice_id: str) -> None:
        super().__init__(f"invoice '{invoice_id}' has no captured payment")
        self.invoice_id = invoice_id


class RefundExceedsPayment(BillingError):
    def __init__(self, remaining_cents: int, currency: str) -> None:
        super().__init__(f"at most {remaining_cents} cents can still be refunded")
        self.remaining_cents = remaining_cents
        self.currency = currency


class RefundRejected(BillingError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SubscriptionNotPending(BillingError):
    """Only a subscription a checkout started, and has not finished, is pending."""

    def __init__(self, subscription_id: str, status: str) -> None:
        super().__init__(f"subscription '{subscription_id}' is {status}, not pending")
        self.subscription_id = subscription_id
        self.status = status


class InvoiceNotPaid(BillingError):
    def __init__(self, invoice_id: str, status: str) -> None:
        super().__init__(f"invoice '{invoice_id}' is {status}, not paid")
        self.invoice_id = invoice_id
        self.status = status


class CheckoutNotFound(BillingError):
    def __init__(self, checkout_id: str) -> None:
        super().__init__(f"no checkout '{checkout_id}'")
        self.checkout_id = checkout_id


class CheckoutKeyReused(BillingError):
    """The key already started a checkout of another plan or card for this customer."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key '{key}' was used for another checkout")
        self.key = key
