"""Every refusal of the service layer, mapped once to its problem document.

Types, titles, statuses and extension members are the monolith's for the same condition, so
a client cannot tell which side refused it. ``customer-unknown`` is billing's own: the
monolith never lacks its users, billing may not have heard of a new one yet.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from http_platform import Problem, ProblemCatalogue, ProblemResponse
from http_platform.problem_catalogue import NOT_FOUND

from billing_service.domain import errors
from billing_service.domain.money import format_money

__all__ = ["CUSTOMER_UNKNOWN_RETRY_SECONDS", "install_billing_problems", "problem_for"]

CUSTOMER_UNKNOWN_RETRY_SECONDS = 1


BILLING_PROBLEMS = ProblemCatalogue("billing")
CUSTOMER_UNKNOWN = BILLING_PROBLEMS.define(
    "customer-unknown",
    "Customer unknown",
    409,
    "Billing has not yet received the registration of this user; retry after Retry-After.",
)
UNKNOWN_PLAN = BILLING_PROBLEMS.define(
    "unknown-plan", "Unknown plan", 422, "No active plan has this id (GET /api/billing/plans)."
)
ALREADY_SUBSCRIBED = BILLING_PROBLEMS.define(
    "already-subscribed",
    "Already subscribed",
    409,
    "The customer has an active subscription; ``subscription_id`` names it.",
)
SUBSCRIPTION_NOT_ACTIVE = BILLING_PROBLEMS.define(
    "subscription-not-active",
    "Subscription not active",
    409,
    "The subscription is cancelled or was never activated.",
)
PAYMENT_IN_PROGRESS = BILLING_PROBLEMS.define(
    "payment-in-progress",
    "Payment in progress",
    409,
    "Another request is paying this invoice right now; retry to read its outcome.",
)
INVOICE_ALREADY_PAID = BILLING_PROBLEMS.define(
    "invoice-already-paid", "Invoice already paid", 409, "The invoice was paid before."
)
INVOICE_NOT_PAYABLE = BILLING_PROBLEMS.define(
    "invoice-not-payable", "Invoice not payable", 409, "The invoice is void or refunded."
)
INVOICE_NOT_REFUNDABLE = BILLING_PROBLEMS.define(
    "invoice-not-refundable",
    "Invoice not refundable",
    409,
    "The invoice is not paid, or has no captured payment to refund.",
)
IDEMPOTENCY_KEY_REUSED = BILLING_PROBLEMS.define(
    "idempotency-key-reused",
    "Idempotency key reused",
    422,
    "The Idempotency-Key was used before for a different request.",
)
CARD_DECLINED = BILLING_PROBLEMS.define(
    "card-declined",
    "Card declined",
    402,
    "The payment provider declined the card; ``decline_code`` says why.",
)
PAYMENT_PROVIDER_TIMEOUT = BILLING_PROBLEMS.define(
    "payment-provider-timeout",
    "Payment provider timed out",
    504,
    "The provider did not answer; nothing was charged, retry with the same key.",
)
PAYMENT_PROVIDER_UNAVAILABLE = BILLING_PROBLEMS.define(
    "payment-provider-unavailable",
    "Payment provider unavailable",
    502,
    "The payment provider could not be reached or answered with an error.",
)
REFUND_EXCEEDS_PAYMENT = BILLING_PROBLEMS.define(
    "refund-exceeds-payment",
    "Refund exceeds payment",
    422,
    "The refund is over what is left of the payment; ``remaining_cents`` says how much is.",
)
REFUND_REJECTED = BILLING_PROBLEMS.define(
    "refund-rejected",
    "Refund rejected by the payment provider",
    409,
    "The provider refused the refund; the invoice stays paid.",
)


def _not_found(what: str, identifier: str) -> Problem:
    return Problem(NOT_FOUND, f"No {what} with id '{identifier}'.")


def problem_for(error: errors.BillingError) -> Problem:
    match error:
        case errors.CustomerUnknown():
            return Problem(
                CUSTOMER_UNKNOWN,
                f"Billing has not received the registration of user '{error.customer_id}' "
                "yet; retry shortly.",
                headers={"Retry-After": str(CUSTOMER_UNKNOWN_RETRY_SECONDS)},
            )
        case errors.UnknownPlan():
            return Problem(
                UNKNOWN_PLAN,
                f"There is no active plan '{error.plan_id}'. GET /api/billing/plans lists them.",
                errors=[{"pointer": "/plan_id", "message": "unknown plan", "code": "unknown_plan"}],
            )
        case errors.AlreadySubscribed():
            return Problem(
                ALREADY_SUBSCRIBED,
                f"Subscription '{error.subscription_id}' to plan '{error.plan_id}' is active; "
                "cancel it first.",
                subscription_id=error.subscription_id,
            )
        case errors.SubscriptionNotFound():
            return _not_found("subscription", error.subscription_id)
        case errors.InvoiceNotFound():
            return _not_found("invoice", error.invoice_id)
        case errors.CheckoutNotFound():
            return _not_found("checkout", error.checkout_id)
        case errors.CheckoutKeyReused():
            return Problem(
                IDEMPOTENCY_KEY_REUSED,
                f"Idempotency-Key '{error.key}' was used for a checkout of another plan or card.",
            )
        case errors.SubscriptionNotActive():
            return Problem(
                SUBSCRIPTION_NOT_ACTIVE,
                f"Subscription '{error.subscription_id}' is {error.status}.",
            )
        case errors.PaymentInProgress():
            return Problem(
                PAYMENT_IN_PROGRESS,
                f"Invoice '{error.invoice_id}' is being paid right now.",
            )
        case errors.InvoiceAlreadyPaid():
            return Problem(
                INVOICE_ALREADY_PAID,
                f"Invoice '{error.invoice_id}' is paid.",
            )
        case errors.InvoiceNotPayable():
            return Problem(
                INVOICE_NOT_PAYABLE,
                f"Invoice '{error.invoice_id}' is {error.status}.",
            )
        case errors.IdempotencyKeyReused():
            return Problem(
                IDEMPOTENCY_KEY_REUSED,
                f"Idempotency-Key '{error.key}' was used for another invoice.",
            )
        case errors.CardWasDeclined():
            return Problem(
                CARD_DECLINED,
                f"The payment provider declined the card: {error.message}",
                invoice_id=error.invoice_id,
                payment_id=error.payment_id,
                decline_code=error.code,
            )
        case errors.PaymentProviderTimedOut():
            return Problem(
                PAYMENT_PROVIDER_TIMEOUT,
                "The payment provider did not answer in time. Nothing was charged; the invoice "
                "is still open. Retry with the same Idempotency-Key to resume this attempt.",
                invoice_id=error.invoice_id,
                payment_id=error.payment_id,
            )
        case errors.PaymentProviderUnavailable():
            return Problem(PAYMENT_PROVIDER_UNAVAILABLE, error.detail)
        case errors.InvoiceNotRefundable():
            return Problem(
                INVOICE_NOT_REFUNDABLE,
                f"Invoice '{error.invoice_id}' is {error.status}; only paid invoices are refunded.",
            )
        case errors.NoCapturedPayment():
            return Problem(
                INVOICE_NOT_REFUNDABLE,
                f"Invoice '{error.invoice_id}' has no captured payment.",
            )
        case errors.RefundExceedsPayment():
            return Problem(
                REFUND_EXCEEDS_PAYMENT,
                "At most "
                f"{format_money(error.remaining_cents, error.currency)} can still be refunded.",
                remaining_cents=error.remaining_cents,
            )
        case errors.RefundRejected():
            return Problem(REFUND_REJECTED, error.detail)
    raise TypeError(f"no problem document for {type(error).__name__}") from error


def install_billing_problems(app: FastAPI) -> None:
    async def on_billing_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, errors.BillingError)
        return problem_for(exc).to_response(request.url.path)

    app.add_exception_handler(errors.BillingError, on_billing_error)
