"""``/api/billing/checkout``: subscribe to a plan and pay for it in one request.

The answer comes at once (202, ``Location`` of the checkout); the checkout saga does the work
in the background, and ``GET`` on the location says where it stands. Only billing serves
this: the monolith has no checkout, so the gateway sends it to the new side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from http_platform.edge_input import SingleLineText
from pydantic import BaseModel, ConfigDict, Field
from strangler_sagas import SagaView

from billing_service.domain.commands import Checkout
from billing_service.entrypoints.identity import CustomerId
from billing_service.entrypoints.routes import BillingDep, IdempotencyKey
from billing_service.entrypoints.schemas import CardNumber

__all__ = ["CheckoutOut", "CheckoutRequest", "router"]

router = APIRouter(prefix="/api/billing", tags=["billing"])


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    plan_id: Annotated[SingleLineText, Field(min_length=1, max_length=40)]
    card_number: CardNumber


class CheckoutStepOut(BaseModel):
    name: str
    state: str
    attempts: int
    compensation_attempts: int


class CheckoutOut(BaseModel):
    """Where a checkout stands.

    ``status``: ``running``, ``compensating`` (it failed and is being undone),
    ``completed`` (the subscription is active and paid), ``compensated`` (it failed and was
    undone: invoice void, subscription cancelled, any charge refunded) or
    ``compensation_failed`` (undoing it needs an operator).
    """

    id: str
    status: str
    step: str | None
    plan_id: str
    card_last4: str
    subscription_id: str
    invoice_id: str
    amount_cents: int | None
    currency: str | None
    payment_id: str | None
    refund_id: str | None
    failure: str | None
    steps: list[CheckoutStepOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: SagaView) -> CheckoutOut:
        data: dict[str, Any] = view.data
        return cls(
            id=view.summary.id,
            status=view.summary.status.value,
            step=view.summary.step,
            plan_id=data["plan_id"],
            card_last4=data["card_last4"],
            subscription_id=data["subscription_id"],
            invoice_id=data["invoice_id"],
            amount_cents=data.get("amount_cents"),
            currency=data.get("currency"),
            payment_id=data.get("payment_id"),
            refund_id=data.get("refund_id"),
            failure=view.summary.failure,
            steps=[
                CheckoutStepOut(
                    name=step.name,
                    state=step.state,
                    attempts=step.attempts,
                    compensation_attempts=step.compensation_attempts,
                )
                for step in view.steps
            ],
            created_at=view.summary.created_at,
            updated_at=view.summary.updated_at,
        )


def _location(checkout_id: str) -> str:
    return f"{router.prefix}/checkout/{checkout_id}"


@router.post("/checkout", status_code=status.HTTP_202_ACCEPTED)
async def start_checkout(
    body: CheckoutRequest,
    customer_id: CustomerId,
    billing: BillingDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CheckoutOut:
    """Subscribe to a plan and pay its first invoice; a retry with the same Idempotency-Key
    answers the same checkout."""
    started = await billing.start_checkout(
        Checkout(customer_id, body.plan_id, body.card_number, idempotency_key)
    )
    response.headers["Location"] = _location(started.checkout.summary.id)
    if started.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CheckoutOut.of(started.checkout)


@router.get("/checkout/{checkout_id}")
async def get_checkout(
    checkout_id: str, customer_id: CustomerId, billing: BillingDep
) -> CheckoutOut:
    """One of the caller's checkouts: its status and each step's."""
    return CheckoutOut.of(await billing.checkout(customer_id, checkout_id))
