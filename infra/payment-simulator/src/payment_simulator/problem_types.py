"""The payment simulator's problem types (it stands for an external card provider)."""

from __future__ import annotations

from http_platform.problem_catalogue import ProblemCatalogue

__all__ = [
    "CARD_DECLINED",
    "CHARGE_NOT_FOUND",
    "CHARGE_NOT_REFUNDABLE",
    "IDEMPOTENCY_KEY_IN_USE",
    "IDEMPOTENCY_KEY_REQUIRED",
    "IDEMPOTENCY_KEY_REUSED",
    "INVALID_CARD_NUMBER",
    "PAYMENT_SIMULATOR_PROBLEMS",
    "PROCESSOR_TIMEOUT",
    "REFUND_DECLINED",
    "REFUND_EXCEEDS_CHARGE",
]

PAYMENT_SIMULATOR_PROBLEMS = ProblemCatalogue("payment-simulator")
CARD_DECLINED = PAYMENT_SIMULATOR_PROBLEMS.define(
    "card-declined",
    "Card declined",
    402,
    "The payment provider declined the card; ``decline_code`` says why.",
)
INVALID_CARD_NUMBER = PAYMENT_SIMULATOR_PROBLEMS.define(
    "invalid-card-number", "Invalid card number", 422, "The card number fails its checks."
)
PROCESSOR_TIMEOUT = PAYMENT_SIMULATOR_PROBLEMS.define(
    "processor-timeout",
    "Processor timeout",
    504,
    "The simulated card network did not answer; nothing was charged, a retry is safe.",
)
CHARGE_NOT_FOUND = PAYMENT_SIMULATOR_PROBLEMS.define(
    "charge-not-found", "Charge not found", 404, "No charge has this id."
)
CHARGE_NOT_REFUNDABLE = PAYMENT_SIMULATOR_PROBLEMS.define(
    "charge-not-refundable", "Charge not refundable", 409, "The charge did not capture money."
)
REFUND_EXCEEDS_CHARGE = PAYMENT_SIMULATOR_PROBLEMS.define(
    "refund-exceeds-charge",
    "Refund exceeds charge",
    422,
    "The refund is over what is left of the charge (``amount_refundable``).",
)
IDEMPOTENCY_KEY_REQUIRED = PAYMENT_SIMULATOR_PROBLEMS.define(
    "idempotency-key-required",
    "Idempotency-Key required",
    400,
    "A charge or refund needs an Idempotency-Key header, so a retry cannot act twice.",
)
IDEMPOTENCY_KEY_IN_USE = PAYMENT_SIMULATOR_PROBLEMS.define(
    "idempotency-key-in-use",
    "Idempotency key in use",
    409,
    "A request with this Idempotency-Key is still being processed.",
)
IDEMPOTENCY_KEY_REUSED = PAYMENT_SIMULATOR_PROBLEMS.define(
    "idempotency-key-reused",
    "Idempotency key reused",
    422,
    "The Idempotency-Key was used before for a different request.",
)
REFUND_DECLINED = PAYMENT_SIMULATOR_PROBLEMS.define(
    "refund-declined",
    "Refund declined",
    402,
    "The issuer of the charged card refused the refund; no money moved.",
)
