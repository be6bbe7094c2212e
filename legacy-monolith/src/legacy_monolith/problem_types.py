"""The monolith's own problem types: accounts and billing refusals.

The billing types are defined identically by the billing service (its
``entrypoints/problems.py``): the catalogue registry refuses a slug defined twice with another
title or status, so a client cannot tell which side refused it.
"""

from __future__ import annotations

from http_platform.problem_catalogue import ProblemCatalogue

__all__ = [
    "ALREADY_SUBSCRIBED",
    "CARD_DECLINED",
    "DUPLICATE_EMAIL",
    "IDEMPOTENCY_KEY_REUSED",
    "INVALID_CREDENTIALS",
    "INVOICE_ALREADY_PAID",
    "INVOICE_NOT_PAYABLE",
    "INVOICE_NOT_REFUNDABLE",
    "MONOLITH_PROBLEMS",
    "PAYMENT_IN_PROGRESS",
    "PAYMENT_PROVIDER_TIMEOUT",
    "PAYMENT_PROVIDER_UNAVAILABLE",
    "REFUND_EXCEEDS_PAYMENT",
    "REFUND_REJECTED",
    "SUBSCRIPTION_NOT_ACTIVE",
    "UNKNOWN_PLAN",
    "WRONG_PASSWORD",
]

MONOLITH_PROBLEMS = ProblemCatalogue("legacy-monolith")
DUPLICATE_EMAIL = MONOLITH_PROBLEMS.define(
    "duplicate-email",
    "E-mail already registered",
    409,
    "An account with this e-mail address exists already.",
)
INVALID_CREDENTIALS = MONOLITH_PROBLEMS.define(
    "invalid-credentials", "Invalid credentials", 401, "The e-mail or the password is wrong."
)
WRONG_PASSWORD = MONOLITH_PROBLEMS.define(
    "wrong-password", "Wrong password", 403, "The current password given is not correct."
)
UNKNOWN_PLAN = MONOLITH_PROBLEMS.define(
    "unknown-plan", "Unknown plan", 422, "No active plan has this id (GET /api/billing/plans)."
)
ALREADY_SUBSCRIBED = MONOLITH_PROBLEMS.define(
    "already-subscribed",
    "Already subscribed",
    409,
    "The customer has an active subscription; ``subscription_id`` names it.",
)
SUBSCRIPTION_NOT_ACTIVE = MONOLITH_PROBLEMS.define(
    "subscription-not-active",
    "Subscription not active",
    409,
    "The subscription is cancelled or was never activated.",
)
PAYMENT_IN_PROGRESS = MONOLITH_PROBLEMS.define(
    "payment-in-progress",
    "Payment in progress",
    409,
    "Another request is paying this invoice right now; retry to read its outcome.",
)
INVOICE_ALREADY_PAID = MONOLITH_PROBLEMS.define(
    "invoice-already-paid", "Invoice already paid", 409, "The invoice was paid before."
)
INVOICE_NOT_PAYABLE = MONOLITH_PROBLEMS.define(
    "invoice-not-payable", "Invoice not payable", 409, "The invoice is void or refunded."
)
INVOICE_NOT_REFUNDABLE = MONOLITH_PROBLEMS.define(
    "invoice-not-refundable",
    "Invoice not refundable",
    409,
    "The invoice is not paid, or has no captured payment to refund.",
)
IDEMPOTENCY_KEY_REUSED = MONOLITH_PROBLEMS.define(
    "idempotency-key-reused",
    "Idempotency key reused",
    422,
    "The Idempotency-Key was used before for a different request.",
)
CARD_DECLINED = MONOLITH_PROBLEMS.define(
    "card-declined",
    "Card declined",
    402,
    "The payment provider declined the card; ``decline_code`` says why.",
)
PAYMENT_PROVIDER_TIMEOUT = MONOLITH_PROBLEMS.define(
    "payment-provider-timeout",
    "Payment provider timed out",
    504,
    "The provider did not answer; nothing was charged, retry with the same key.",
)
PAYMENT_PROVIDER_UNAVAILABLE = MONOLITH_PROBLEMS.define(
    "payment-provider-unavailable",
    "Payment provider unavailable",
    502,
    "The payment provider could not be reached or answered with an error.",
)
REFUND_EXCEEDS_PAYMENT = MONOLITH_PROBLEMS.define(
    "refund-exceeds-payment",
    "Refund exceeds payment",
    422,
    "The refund is over what is left of the payment; ``remaining_cents`` says how much is.",
)
REFUND_REJECTED = MONOLITH_PROBLEMS.define(
    "refund-rejected",
    "Refund rejected by the payment provider",
    409,
    "The provider refused the refund; the invoice stays paid.",
)
