"""Money of a paid invoice given back through the provider, at most once per idempotency key."""

from __future__ import annotations

from datetime import datetime

from billing_service.domain.records import BILLING, FIRST_VERSION, Record

__all__ = ["Refund"]


class Refund(Record):
    """Created by ``Invoice.record_refund`` once the provider confirmed it."""

    def __init__(
        self,
        *,
        id: str,
        invoice_id: str,
        payment_id: str,
        idempotency_key: str,
        amount_cents: int,
        currency: str,
        reason: str | None,
        provider_refund_id: str,
        created_at: datetime,
        origin: str = BILLING,
    ) -> None:
        self.id = id
        self.invoice_id = invoice_id
        self.payment_id = payment_id
        self.idempotency_key = idempotency_key
        self.amount_cents = amount_cents
        self.currency = currency
        self.reason = reason
        self.provider_refund_id = provider_refund_id
        self.created_at = created_at
        self.origin = origin
        self.version = FIRST_VERSION
