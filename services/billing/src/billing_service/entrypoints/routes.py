"""``/api/billing``: the monolith's billing API, answered from billing's own database."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from http_platform import Page, PageQuery
from http_platform.edge_input import IdempotencyKeyHeader
from http_platform.openapi import problem_responses
from http_platform.service_app import root_of

from billing_service.adapters import views
from billing_service.bootstrap import BillingProcess
from billing_service.domain.commands import (
    CancelSubscription,
    PayInvoice,
    RefundInvoice,
    Subscribe,
)
from billing_service.entrypoints.identity import CustomerId
from billing_service.entrypoints.schemas import (
    InvoiceOut,
    PayInvoiceRequest,
    PaymentOut,
    PaymentResult,
    PlanOut,
    RefundInvoiceRequest,
    RefundOut,
    RefundResult,
    SubscribeRequest,
    SubscriptionCreated,
    SubscriptionOut,
)
from billing_service.service_layer.billing import Billing

__all__ = ["router"]

router = APIRouter(prefix="/api/billing", tags=["billing"])


async def _billing(request: Request) -> Billing:
    return root_of(request, BillingProcess).billing


BillingDep = Annotated[Billing, Depends(_billing)]
IdempotencyKey = IdempotencyKeyHeader


@router.get("/plans")
async def list_plans(request: Request, page: PageQuery) -> Page[PlanOut]:
    """The plan catalogue (a read of the query side: no unit of work)."""
    engine = root_of(request, BillingProcess).engine
    plans, total = await views.active_plans(engine, page.limit, page.offset)
    return Page.of([PlanOut.model_validate(p) for p in plans], total, page)


@router.post(
    "/subscriptions", status_code=status.HTTP_201_CREATED, responses=problem_responses(409)
)
async def subscribe(
    body: SubscribeRequest, customer_id: CustomerId, billing: BillingDep
) -> SubscriptionCreated:
    """Subscribe to a plan; the first period's invoice is issued at once."""
    created = await billing.subscribe(Subscribe(customer_id, body.plan_id))
    return SubscriptionCreated(
        subscription=SubscriptionOut.model_validate(created.subscription),
        invoice=InvoiceOut.model_validate(created.invoice),
    )


@router.get("/subscriptions")
async def list_subscriptions(
    customer_id: CustomerId, billing: BillingDep, page: PageQuery
) -> Page[SubscriptionOut]:
    """The caller's subscriptions, newest first."""
    rows, total = await billing.subscriptions(customer_id, page.limit, page.offset)
    return Page.of([SubscriptionOut.model_validate(r) for r in rows], total, page)


@router.get("/subscriptions/{subscription_id}")
async def get_subscription(
    subscription_id: str, customer_id: CustomerId, billing: BillingDep
) -> SubscriptionOut:
    """One of the caller's subscriptions."""
    return SubscriptionOut.model_validate(await billing.subscription(customer_id, subscription_id))


@router.post("/subscriptions/{subscription_id}/cancel", responses=problem_responses(409))
async def cancel_subscription(
    subscription_id: str, customer_id: CustomerId, billing: BillingDep
) -> SubscriptionOut:
    """Cancel a subscription now; its unpaid invoices are voided."""
    cancelled = await billing.cancel_subscription(CancelSubscription(customer_id, subscription_id))
    return SubscriptionOut.model_validate(cancelled)


@router.get("/invoices")
async def list_invoices(
    customer_id: CustomerId, billing: BillingDep, page: PageQuery
) -> Page[InvoiceOut]:
    """The caller's invoices, newest first."""
    rows, total = await billing.invoices(customer_id, page.limit, page.offset)
    return Page.of([InvoiceOut.model_validate(r) for r in rows], total, page)


@router.get("/invoices/{invoice_id}")
async def get_invoice(invoice_id: str, customer_id: CustomerId, billing: BillingDep) -> InvoiceOut:
    """One of the caller's invoices."""
    return InvoiceOut.model_validate(await billing.invoice(customer_id, invoice_id))


@router.post(
    "/invoices/{invoice_id}/pay",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(402, 409, 502, 504),
)
async def pay_invoice(
    invoice_id: str,
    body: PayInvoiceRequest,
    customer_id: CustomerId,
    billing: BillingDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PaymentResult:
    """Charge a card for the invoice; a retry with the same Idempotency-Key never charges twice."""
    outcome = await billing.pay_invoice(
        PayInvoice(customer_id, invoice_id, body.card_number, idempotency_key)
    )
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return PaymentResult(
        payment=PaymentOut.model_validate(outcome.payment),
        invoice=InvoiceOut.model_validate(outcome.invoice),
    )


@router.post(
    "/invoices/{invoice_id}/refund",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409, 502),
)
async def refund_invoice(
    invoice_id: str,
    body: RefundInvoiceRequest,
    customer_id: CustomerId,
    billing: BillingDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RefundResult:
    """Refund all (default) or part of a paid invoice."""
    outcome = await billing.refund_invoice(
        RefundInvoice(customer_id, invoice_id, body.amount_cents, body.reason, idempotency_key)
    )
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return RefundResult(
        refund=RefundOut.model_validate(outcome.refund),
        invoice=InvoiceOut.model_validate(outcome.invoice),
    )
