"""One attempt to collect an invoice's amount with a card, under the caller's idempotency key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal

from billing_service.domain.records import BILLING, FIRST_VERSION, Record

__all__ = ["ABANDONED_AFTER_TIMEOUTS", "Payment", "PaymentStatus"]

PaymentStatus = Literal["pending", "succeeded", "failed", "timed_out", "interrupted"]

ABANDONED_AFTER_TIMEOUTS: Final = 3
"""A pending attempt older than this many provider timeouts lost its process mid-call."""


class Payment(Record):
    """Changed only by its invoice (``Invoice.settle``, ``decline``, ``interrupt``)."""

    invoice_id: str
    customer_id: str
    idempotency_key: str
    amount_cents: int
    currency: str
    card_last4: str
    status: PaymentStatus
    provider_charge_id: str | None
    failure_code: str | None
    failure_message: str | None
    created_at: datetime
    attempted_at: datetime | None
    completed_at: datetime | None

    def __init__(
        self,
        *,
        id: str,
        invoice_id: str,
        customer_id: str,
        idempotency_key: str,
        amount_cents: int,
        currency: str,
        card_last4: str,
        created_at: datetime,
        origin: str = BILLING,
    ) -> None:
        self.id = id
        self.invoice_id = invoice_id
        self.customer_id = customer_id
        self.idempotency_key = idempotency_key
        self.amount_cents = amount_cents
        self.currency = currency
        self.card_last4 = card_last4
        self.status = "pending"
        self.provider_charge_id = None
        self.failure_code = None
        self.failure_message = None
        self.created_at = created_at
        self.attempted_at = created_at
        self.completed_at = None
        self.origin = origin
        self.version = FIRST_VERSION

    def attempt_again(self, now: datetime, *, idempotency_key: str, card_last4: str) -> None:
        """Ask the provider again for this payment, for the caller of ``idempotency_key``:
        the provider sees the same payment, so never charges twice."""
        self.status = "pending"
        self.idempotency_key = idempotency_key
        self.card_last4 = card_last4
        self.failure_code = None
        self.failure_message = None
        self.attempted_at = now

    def is_abandoned(self, now: datetime, provider_timeout: timedelta) -> bool:
        started = self.attempted_at or self.created_at
        return now - started > ABANDONED_AFTER_TIMEOUTS * provider_timeout

    @property
    def provider_key(self) -> str:
        """The idempotency key the provider sees: one per payment, whatever the caller's key."""
        return f"payment-{self.id}"
