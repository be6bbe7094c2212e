"""Request and response bodies of ``/api/billing``: the very shapes the monolith answers.

They are billing's own now (a deployable imports no other's code); the parity tests hold
them to the monolith's. Requests are strict: no coercion, no unknown members.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from http_platform.edge_input import SingleLineText
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "InvoiceOut",
    "PayInvoiceRequest",
    "PaymentOut",
    "PaymentResult",
    "PlanOut",
    "RefundInvoiceRequest",
    "RefundOut",
    "RefundResult",
    "SubscribeRequest",
    "SubscriptionCreated",
    "SubscriptionOut",
]


def _card_digits(value: str) -> str:
    """The digits of a card number that passes the Luhn check; spaces are allowed."""
    digits = value.replace(" ", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise ValueError("a card number has 12 to 19 digits")
    doubled = (int(d) * 2 - 9 if int(d) > 4 else int(d) * 2 for d in digits[-2::-2])
    if (sum(int(d) for d in digits[-1::-2]) + sum(doubled)) % 10 != 0:
        raise ValueError("the card number fails the Luhn check")
    return digits


CardNumber = Annotated[str, Field(max_length=40), AfterValidator(_card_digits)]


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PlanOut(_Response):
    id: str
    name: str
    price_cents: int
    currency: str
    interval: str


class SubscribeRequest(_Request):
    plan_id: Annotated[SingleLineText, Field(min_length=1, max_length=40)]


class SubscriptionOut(_Response):
    id: str
    plan_id: str
    status: str
    current_period_start: datetime
    current_period_end: datetime
    created_at: datetime
    cancelled_at: datetime | None


class InvoiceOut(_Response):
    id: str
    subscription_id: str
    amount_cents: int
    amount_refunded_cents: int
    currency: str
    period_start: datetime
    period_end: datetime
    status: str
    issued_at: datetime
    paid_at: datetime | None


class SubscriptionCreated(BaseModel):
    subscription: SubscriptionOut
    invoice: InvoiceOut


class PayInvoiceRequest(_Request):
    card_number: CardNumber


class PaymentOut(_Response):
    id: str
    invoice_id: str
    status: str
    amount_cents: int
    currency: str
    card_last4: str
    provider_charge_id: str | None
    created_at: datetime


class PaymentResult(BaseModel):
    payment: PaymentOut
    invoice: InvoiceOut


class RefundInvoiceRequest(_Request):
    amount_cents: Annotated[int, Field(gt=0)] | None = None
    reason: Annotated[SingleLineText, Field(max_length=500)] | None = None


class RefundOut(_Response):
    id: str
    invoice_id: str
    amount_cents: int
    currency: str
    reason: str | None
    created_at: datetime


class RefundResult(BaseModel):
    refund: RefundOut
    invoice: InvoiceOut
