"""Every refusal of the service layer, mapped once to its problem document.

Types, titles, statuses and extension members are the monolith's for the same condition, so
a client cannot tell which side refused it. ``customer-unknown`` is billing's own: the
monolith never lacks its users, billing may not have heard of a new one yet.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from http_platform import Problem, ProblemResponse

from billing_service.domain import errors
from billing_service.domain.money import format_money

__all__ = ["CUSTOMER_UNKNOWN_RETRY_SECONDS", "install_billing_problems", "problem_for"]

CUSTOMER_UNKNOWN_RETRY_SECONDS = 1


def _conflict(slug: str, title: str, detail: str, subscription_id: str | None = None) -> Problem:
    if subscription_id is None:
        return Problem(409, slug, title, detail)
    return Problem(409, slug, title, detail, subscription_id=subscription_id)


def _not_found(what: str, identifier: str) -> Problem:
    return Problem(
        404, "not-found", f"{what.capitalize()} not found", f"No {what} with id '{identifier}'."
    )


def problem_for(error: errors.BillingError) -> Problem:
    match error:
        case errors.CustomerUnknown():
            return Problem(
                409,
                "customer-unknown",
                "Customer unknown",
                f"Billing has not received the registration of user '{error.customer_id}' "
                "yet; retry shortly.",
                headers={"Retry-After": str(CUSTOMER_UNKNOWN_RETRY_SECONDS)},
            )
        case errors.UnknownPlan():
            return Problem(
                422,
                "unknown-plan",
                "Unknown plan",
                f"There is no active plan '{error.plan_id}'. GET /api/billing/plans lists them.",
                errors=[{"pointer": "/plan_id", "message": "unknown plan", "code": "unknown_plan"}],
            )
        case errors.AlreadySubscribed():
            return _conflict(
                "already-subscribed",
                "Already subscribed",
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
                422,
                "idempotency-key-reused",
                "Idempotency key reused",
                f"Idempotency-Key '{error.key}' was used for a checkout of another plan or card.",
            )
        case errors.SubscriptionNotActive():
            return _conflict(
                "subscription-not-active",
                "Subscription not active",
                f"Subscription '{error.subscription_id}' is {error.status}.",
            )
        case errors.PaymentInProgress():
            return _conflict(
                "payment-in-progress",
                "Payment in progress",
                f"Invoice '{error.invoice_id}' is being paid right now.",
            )
        case errors.InvoiceAlreadyPaid():
            return _conflict(
                "invoice-already-paid",
                "Invoice already paid",
                f"Invoice '{error.invoice_id}' is paid.",
            )
        case errors.InvoiceNotPayable():
            return _conflict(
                "invoice-not-payable",
                "Invoice not payable",
                f"Invoice '{error.invoice_id}' is {error.status}.",
            )
        case errors.IdempotencyKeyReused():
            return Problem(
                422,
                "idempotency-key-reused",
                "Idempotency key reused",
                f"Idempotency-Key '{error.key}' was used for another invoice.",
            )
        case errors.CardWasDeclined():
            return Problem(
                402,
                "card-declined",
                "Card declined",
                f"The payment provider declined the card: {error.message}",
                invoice_id=error.invoice_id,
                payment_id=error.payment_id,
                decline_code=error.code,
            )
        case errors.PaymentProviderTimedOut():
            return Problem(
                504,
                "payment-provider-timeout",
                "Payment provider timed out",
                "The payment provider did not answer in time. Nothing was charged; the invoice "
                "is still open. Retry with the same Idempotency-Key to resume this attempt.",
                invoice_id=error.invoice_id,
                payment_id=error.payment_id,
            )
        case errors.PaymentProviderUnavailable():
            return Problem(
                502, "payment-provider-unavailable", "Payment provider unavailable", error.detail
            )
        case errors.InvoiceNotRefundable():
            return _conflict(
                "invoice-not-refundable",
                "Invoice not refundable",
                f"Invoice '{error.invoice_id}' is {error.status}; only paid invoices are refunded.",
            )
        case errors.NoCapturedPayment():
            return _conflict(
                "invoice-not-refundable",
                "Invoice not refundable",
                f"Invoice '{error.invoice_id}' has no captured payment.",
            )
        case errors.RefundExceedsPayment():
            return Problem(
                422,
                "refund-exceeds-payment",
                "Refund exceeds payment",
                "At most "
                f"{format_money(error.remaining_cents, error.currency)} can still be refunded.",
                remaining_cents=error.remaining_cents,
            )
        case errors.RefundRejected():
            return _conflict(
                "refund-rejected", "Refund rejected by the payment provider", error.detail
            )
    raise TypeError(f"no problem document for {type(error).__name__}") from error


def install_billing_problems(app: FastAPI) -> None:
    async def on_billing_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, errors.BillingError)
        return problem_for(exc).to_response(request.url.path)

    app.add_exception_handler(errors.BillingError, on_billing_error)
