"""Event interception: the monolith's domain changes, published as integration events.

Each call records the event in the outbox inside the caller's transaction, so an event exists
exactly when the change it describes was committed. The outbox relay publishes them.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import (
    IntegrationEvent,
    InvoiceIssued,
    NotificationSent,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionCancelled,
    SubscriptionStarted,
    UserRegistered,
)
from strangler_eventing import Outbox

from legacy_monolith.models import (
    Invoice,
    Notification,
    Payment,
    Refund,
    Subscription,
    User,
    outbox,
)

__all__ = [
    "SOURCE",
    "invoice_issued",
    "notification_sent",
    "payment_failed",
    "payment_succeeded",
    "record",
    "refund_issued",
    "subscription_cancelled",
    "subscription_started",
    "user_registered",
]

SOURCE = "/legacy-monolith"
_OUTBOX = Outbox(outbox, SOURCE)


async def record(session: AsyncSession, event: IntegrationEvent) -> None:
    await _OUTBOX.record(session, event)


def user_registered(user: User) -> UserRegistered:
    return UserRegistered(
        user_id=user.id, email=user.email, display_name=user.name, registered_at=user.created_at
    )


def subscription_started(subscription: Subscription) -> SubscriptionStarted:
    return SubscriptionStarted(
        subscription_id=subscription.id,
        user_id=subscription.user_id,
        plan_id=subscription.plan_id,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        started_at=subscription.created_at,
    )


def subscription_cancelled(
    subscription: Subscription, voided_invoice_ids: list[str]
) -> SubscriptionCancelled:
    assert subscription.cancelled_at is not None
    return SubscriptionCancelled(
        subscription_id=subscription.id,
        user_id=subscription.user_id,
        cancelled_at=subscription.cancelled_at,
        voided_invoice_ids=voided_invoice_ids,
    )


def invoice_issued(invoice: Invoice) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=invoice.id,
        subscription_id=invoice.subscription_id,
        user_id=invoice.user_id,
        amount_cents=invoice.amount_cents,
        currency=invoice.currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issued_at=invoice.issued_at,
    )


def payment_succeeded(payment: Payment, invoice: Invoice) -> PaymentSucceeded:
    assert payment.provider_charge_id is not None
    assert payment.completed_at is not None
    return PaymentSucceeded(
        payment_id=payment.id,
        invoice_id=invoice.id,
        subscription_id=invoice.subscription_id,
        user_id=payment.user_id,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        provider_charge_id=payment.provider_charge_id,
        paid_at=payment.completed_at,
    )


def payment_failed(payment: Payment, invoice: Invoice) -> PaymentFailed:
    assert payment.completed_at is not None
    return PaymentFailed(
        payment_id=payment.id,
        invoice_id=invoice.id,
        subscription_id=invoice.subscription_id,
        user_id=payment.user_id,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        failure_code=payment.failure_code or "",
        failure_message=payment.failure_message or "",
        failed_at=payment.completed_at,
    )


def refund_issued(refund: Refund, invoice: Invoice) -> RefundIssued:
    return RefundIssued(
        refund_id=refund.id,
        invoice_id=invoice.id,
        payment_id=refund.payment_id,
        subscription_id=invoice.subscription_id,
        user_id=invoice.user_id,
        amount_cents=refund.amount_cents,
        currency=refund.currency,
        invoice_refunded_cents=invoice.amount_refunded_cents,
        refunded_at=refund.created_at,
    )


def notification_sent(notification: Notification) -> NotificationSent:
    return NotificationSent(
        notification_id=notification.id,
        user_id=notification.user_id,
        kind=notification.kind,
        recipient=notification.recipient,
        subject=notification.subject,
        status=notification.status,
        occurred_at=notification.sent_at or notification.created_at,
    )
