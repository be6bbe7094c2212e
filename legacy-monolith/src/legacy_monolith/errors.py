"""The monolith's error conditions, each mapped once to its problem document."""

from __future__ import annotations

from typing import Any

from http_platform import Problem
from http_platform.problem_catalogue import NOT_FOUND

from legacy_monolith.problem_types import (
    CARD_DECLINED,
    DUPLICATE_EMAIL,
    INVALID_CREDENTIALS,
    PAYMENT_PROVIDER_TIMEOUT,
    PAYMENT_PROVIDER_UNAVAILABLE,
    WRONG_PASSWORD,
)

__all__ = [
    "CardWasDeclined",
    "Conflict",
    "DuplicateEmail",
    "InvalidCredentials",
    "NotFound",
    "PaymentProviderDown",
    "PaymentProviderTimedOut",
    "WrongPassword",
]


class NotFound(Problem):
    def __init__(self, what: str, identifier: str) -> None:
        super().__init__(NOT_FOUND, f"No {what} with id '{identifier}'.")


class Conflict(Problem):
    def __init__(self, slug: str, title: str, detail: str, **extensions: Any) -> None:
        super().__init__(409, slug, title, detail, **extensions)


class DuplicateEmail(Problem):
    def __init__(self, email: str) -> None:
        super().__init__(
            DUPLICATE_EMAIL,
            f"An account with the e-mail '{email}' already exists.",
        )


class InvalidCredentials(Problem):
    def __init__(self) -> None:
        super().__init__(
            INVALID_CREDENTIALS,
            "The e-mail or the password is wrong.",
            headers={"WWW-Authenticate": "Bearer"},
        )


class WrongPassword(Problem):
    def __init__(self) -> None:
        super().__init__(WRONG_PASSWORD, "The current password is not correct.")


class CardWasDeclined(Problem):
    def __init__(self, invoice_id: str, payment_id: str, code: str, message: str) -> None:
        super().__init__(
            CARD_DECLINED,
            f"The payment provider declined the card: {message}",
            invoice_id=invoice_id,
            payment_id=payment_id,
            decline_code=code,
        )


class PaymentProviderTimedOut(Problem):
    def __init__(self, invoice_id: str, payment_id: str) -> None:
        super().__init__(
            PAYMENT_PROVIDER_TIMEOUT,
            "The payment provider did not answer in time. Nothing was charged; the invoice "
            "is still open. Retry with the same Idempotency-Key to resume this attempt.",
            invoice_id=invoice_id,
            payment_id=payment_id,
        )


class PaymentProviderDown(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(PAYMENT_PROVIDER_UNAVAILABLE, detail)
