"""The monolith's error conditions, each mapped once to its problem document."""

from __future__ import annotations

from typing import Any

from http_platform import Problem

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
        super().__init__(
            404, "not-found", f"{what.capitalize()} not found", f"No {what} with id '{identifier}'."
        )


class Conflict(Problem):
    def __init__(self, slug: str, title: str, detail: str, **extensions: Any) -> None:
        super().__init__(409, slug, title, detail, **extensions)


class DuplicateEmail(Problem):
    def __init__(self, email: str) -> None:
        super().__init__(
            409,
            "duplicate-email",
            "E-mail already registered",
            f"An account with the e-mail '{email}' already exists.",
        )


class InvalidCredentials(Problem):
    def __init__(self) -> None:
        super().__init__(
            401,
            "invalid-credentials",
            "Invalid credentials",
            "The e-mail or the password is wrong.",
            headers={"WWW-Authenticate": "Bearer"},
        )


class WrongPassword(Problem):
    def __init__(self) -> None:
        super().__init__(
            403, "wrong-password", "Wrong password", "The current password is not correct."
        )


class CardWasDeclined(Problem):
    def __init__(self, invoice_id: str, payment_id: str, code: str, message: str) -> None:
        super().__init__(
            402,
            "card-declined",
            "Card declined",
            f"The payment provider declined the card: {message}",
            invoice_id=invoice_id,
            payment_id=payment_id,
            decline_code=code,
        )


class PaymentProviderTimedOut(Problem):
    def __init__(self, invoice_id: str, payment_id: str) -> None:
        super().__init__(
            504,
            "payment-provider-timeout",
            "Payment provider timed out",
            "The payment provider did not answer in time. Nothing was charged; the invoice "
            "is still open. Retry with the same Idempotency-Key to resume this attempt.",
            invoice_id=invoice_id,
            payment_id=payment_id,
        )


class PaymentProviderDown(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(
            502, "payment-provider-unavailable", "Payment provider unavailable", detail
        )
