"""``/api/billing``: plans, subscriptions, invoices, payments and refunds."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from http_platform import Page, PageQuery
from http_platform.edge_input import IdempotencyKeyHeader
from http_platform.openapi import problem_responses
from http_platform.service_app import root_of

from legacy_monolith.billing import service
from legacy_monolith.dependencies import CurrentUser, DbSession, RuntimeDep
from legacy_monolith.runtime import Runtime
from legacy_monolith.schemas import (
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

__all__ = ["router"]

router = APIRouter(prefix="/api/billing", tags=["billing"])

IdempotencyKey = IdempotencyKeyHeader


@router.get("/plans")
async def list_plans(request: Request, page: PageQuery) -> Page[PlanOut]:
    """The plan catalogue (the hottest read: the runtime taken from the request, not solved
    as a dependency)."""
    engine = root_of(request, Runtime).engine
    plans, total = await service.list_plans(engine, page.limit, page.offset)
    return Page.of([PlanOut.model_validate(p) for p in plans], total, page)


@router.post(
    "/subscriptions", status_code=status.HTTP_201_CREATED, responses=problem_responses(409)
)
async def subscribe(
    body: SubscribeRequest, user: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> SubscriptionCreated:
    """Subscribe to a plan; the first period's invoice is issued at once."""
    subscription, invoice = await service.subscribe(session, runtime, user, body.plan_id)
    return SubscriptionCreated(
        subscription=SubscriptionOut.model_validate(subscription),
        invoice=InvoiceOut.model_validate(invoice),
    )


@router.get("/subscriptions")
async def list_subscriptions(
    user: CurrentUser, session: DbSession, page: PageQuery
) -> Page[SubscriptionOut]:
    """The caller's subscriptions, newest first."""
    rows, total = await service.list_subscriptions(session, user.id, page.limit, page.offset)
    return Page.of([SubscriptionOut.model_validate(r) for r in rows], total, page)


@router.get("/subscriptions/{subscription_id}")
async def get_subscription(
    subscription_id: str, user: CurrentUser, session: DbSession
) -> SubscriptionOut:
    """One of the caller's subscriptions."""
    subscription = await service.get_subscription(session, user.id, subscription_id)
    return SubscriptionOut.model_validate(subscription)


@router.post("/subscriptions/{subscription_id}/cancel", responses=problem_responses(409))
async def cancel_subscription(
    subscription_id: str, user: CurrentUser, session: DbSession
) -> SubscriptionOut:
    """Cancel a subscription now; its unpaid invoices are voided."""
    subscription = await service.cancel_subscription(session, user.id, subscription_id)
    return SubscriptionOut.model_validate(subscription)


@router.get("/invoices")
async def list_invoices(user: CurrentUser, session: DbSession, page: PageQuery) -> Page[InvoiceOut]:
    """The caller's invoices, newest first."""
    rows, total = await service.list_invoices(session, user.id, page.limit, page.offset)
    return Page.of([InvoiceOut.model_validate(r) for r in rows], total, page)


@router.get("/invoices/{invoice_id}")
async def get_invoice(invoice_id: str, user: CurrentUser, session: DbSession) -> InvoiceOut:
    """One of the caller's invoices."""
    return InvoiceOut.model_validate(await service.get_invoice(session, user.id, invoice_id))


@router.post(
    "/invoices/{invoice_id}/pay",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(402, 409, 502, 504),
)
async def pay_invoice(
    invoice_id: str,
    body: PayInvoiceRequest,
    user: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PaymentResult:
    """Charge a card for the invoice; a retry with the same Idempotency-Key never charges twice."""
    outcome = await service.pay_invoice(
        session, runtime, user.id, invoice_id, body.card_number, idempotency_key
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
    user: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RefundResult:
    """Refund all (default) or part of a paid invoice."""
    outcome = await service.refund_invoice(
        session, runtime, user.id, invoice_id, body.amount_cents, body.reason, idempotency_key
    )
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return RefundResult(
        refund=RefundOut.model_validate(outcome.refund),
        invoice=InvoiceOut.model_validate(outcome.invoice),
    )
