"""What the simulator's HTTP API accepts and answers, as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from http_platform.edge_input import SingleLineText
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from payment_simulator.ledger import Charge, ChargeStatus, Refund

__all__ = ["ChargeRequest", "ChargeResponse", "RefundRequest", "RefundResponse"]

MAX_AMOUNT = 99_999_999

Amount = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT, description="In the currency's cents")]
Currency = Annotated[
    str,
    Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code, any case"),
    AfterValidator(str.lower),
]
CardNumber = Annotated[
    str,
    Field(max_length=40, description="Digits; spaces are ignored"),
    AfterValidator(lambda number: number.replace(" ", "")),
]


class ChargeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    amount: Amount
    currency: Currency
    card_number: CardNumber
    description: Annotated[SingleLineText | None, Field(max_length=500)] = None


class ChargeResponse(BaseModel):
    id: str
    status: ChargeStatus
    amount: int
    amount_refunded: int
    currency: str
    card_last4: str
    description: str | None
    failure_code: str | None
    created_at: datetime

    @classmethod
    def of(cls, charge: Charge) -> ChargeResponse:
        return cls(
            id=charge.id,
            status=charge.status,
            amount=charge.amount,
            amount_refunded=charge.amount_refunded,
            currency=charge.currency,
            card_last4=charge.card_last4,
            description=charge.description,
            failure_code=charge.failure_code,
            created_at=charge.created_at,
        )


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    charge_id: Annotated[SingleLineText, Field(min_length=1, max_length=64)]
    amount: Amount | None = Field(default=None, description="Defaults to all that is left")


class RefundResponse(BaseModel):
    id: str
    charge_id: str
    amount: int
    status: Literal["succeeded"]
    created_at: datetime

    @classmethod
    def of(cls, refund: Refund) -> RefundResponse:
        return cls(
            id=refund.id,
            charge_id=refund.charge_id,
            amount=refund.amount,
            status=refund.status,
            created_at=refund.created_at,
        )
