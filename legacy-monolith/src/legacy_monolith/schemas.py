"""Request and response bodies of the public API. Requests are strict: no coercion, no extras."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from http_platform.edge_input import SingleLineText
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from strangler_identity import MAX_ADDRESS_LENGTH, UnacceptableEmailAddress, parse_email_address

__all__ = [
    "ChangePasswordRequest",
    "ChangeProfileRequest",
    "InvoiceOut",
    "LoginRequest",
    "NotificationOut",
    "PayInvoiceRequest",
    "PaymentOut",
    "PaymentResult",
    "PlanOut",
    "PreferencesIn",
    "PreferencesOut",
    "RefundInvoiceRequest",
    "RefundOut",
    "RefundResult",
    "RegisterRequest",
    "SubscribeRequest",
    "SubscriptionCreated",
    "SubscriptionOut",
    "TokenOut",
    "UserOut",
]

Password = Annotated[str, Field(min_length=8, max_length=128)]
Name = Annotated[
    SingleLineText, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


def _acceptable_address(value: str) -> str:
    try:
        return parse_email_address(value).address
    except UnacceptableEmailAddress as exc:
        raise ValueError(str(exc)) from exc


EmailAddress = Annotated[
    str, Field(min_length=3, max_length=MAX_ADDRESS_LENGTH), AfterValidator(_acceptable_address)
]


def _luhn_valid_digits(value: str) -> str:
    digits = value.replace(" ", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise ValueError("a card number has 12 to 19 digits")
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    if total % 10 != 0:
        raise ValueError("the card number fails the Luhn check")
    return digits


CardNumber = Annotated[str, Field(max_length=40), AfterValidator(_luhn_valid_digits)]


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RegisterRequest(Request):
    email: EmailAddress
    password: Password
    name: Name


class LoginRequest(Request):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


class ChangePasswordRequest(Request):
    current_password: Annotated[str, Field(min_length=1, max_length=128)]
    new_password: Password


class ChangeProfileRequest(Request):
    name: Name


class UserOut(Response):
    id: str
    email: str
    name: str
    created_at: datetime


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth 2 token type, not a secret)
    expires_in: int


class PlanOut(Response):
    id: str
    name: str
    price_cents: int
    currency: str
    interval: str


class SubscribeRequest(Request):
    plan_id: Annotated[SingleLineText, Field(min_length=1, max_length=40)]


class SubscriptionOut(Response):
    id: str
    plan_id: str
    status: str
    current_period_start: datetime
    current_period_end: datetime
    created_at: datetime
    cancelled_at: datetime | None


class InvoiceOut(Response):
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


class PayInvoiceRequest(Request):
    card_number: CardNumber


class PaymentOut(Response):
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


class RefundInvoiceRequest(Request):
    amount_cents: Annotated[int, Field(gt=0)] | None = None
    reason: Annotated[SingleLineText, Field(max_length=500)] | None = None


class RefundOut(Response):
    id: str
    invoice_id: str
    amount_cents: int
    currency: str
    reason: str | None
    created_at: datetime


class RefundResult(BaseModel):
    refund: RefundOut
    invoice: InvoiceOut


class NotificationOut(Response):
    id: str
    kind: str
    category: str
    recipient: str
    subject: str
    body: str
    status: str
    created_at: datetime
    sent_at: datetime | None


class PreferencesIn(Request):
    account_emails: bool
    billing_emails: bool


class PreferencesOut(Response):
    account_emails: bool
    billing_emails: bool
    updated_at: datetime
