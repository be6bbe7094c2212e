"""Event interception: the monolith's domain changes, published as integration events.

Each call records the event in the outbox inside the caller's transaction, so an event exists
exactly when the change it describes was committed. The outbox relay publishes them.

Billing events also say that the monolith made the change (``origin``) and which version of
each record it produced, with the record fields the billing service needs to hold a copy:
build them after the session flushed the change, when the versions are counted. So does
``UserAccountChanged``, the whole account record that auth copies (``account_changed``), and
so do ``NotificationSent`` and ``NotificationPreferencesChanged``, the history and the
preferences that the notifications service copies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import (
    IntegrationEvent,
    InvoiceIssued,
    NotificationPreferencesChanged,
    NotificationSent,
    PasswordChanged,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionCancelled,
    SubscriptionStarted,
    UserAccountChanged,
    UserProfileChanged,
    UserRegistered,
)
from strangler_contracts.events.accounts import AccountChange
from strangler_eventing import Outbox

from legacy_monolith.models import (
    ORIGIN,
    Invoice,
    Notification,
    NotificationPreferences,
    Payment,
    Refund,
    Subscription,
    User,
    outbox,
)

__all__ = [
    "SOURCE",
    "account_changed",
    "invoice_issued",
    "notification_sent",
    "password_changed",
    "payment_failed",
    "payment_succeeded",
    "preferences_changed",
    "record",
    "refund_issued",
    "subscription_cancelled",
    "subscription_started",
    "user_profile_changed",
    "user_registered",
]

SOURCE = "/legacy-monolith"
_OUTBOX = Outbox(outbox, SOURCE)


async def record(session: AsyncSession, event: IntegrationEvent) -> None:
    await _OUTBOX.record(session, event)


def user_registered(user: User) -> UserRegistered:
    return UserRegistered(
        user_id=user.id,
        email=user.email,
        display_name=user.name,
        registered_at=user.created_at,
        origin=ORIGIN,
    )


def password_changed(user: User) -> PasswordChanged:
    return PasswordChanged(user_id=user.id, changed_at=user.password_changed_at, origin=ORIGIN)


def user_profile_changed(user: User, changed_at: datetime) -> UserProfileChanged:
    return UserProfileChanged(
        user_id=user.id, display_name=user.name, changed_at=changed_at, origin=ORIGIN
    )


def account_changed(user: User, change: AccountChange) -> UserAccountChanged:
    """The whole account, for auth only (``strangler.credentials``); after the flush."""
    return UserAccountChanged(
        user_id=user.id,
        user_version=user.version,
        origin=ORIGIN,
        change=change,
        email=user.email,
        email_key=user.email_key,
        display_name=user.name,
        password_hash=user.password_hash,
        password_changed_at=user.password_changed_at,
        registered_at=user.created_at,
    )


def subscription_started(subscription: Subscription) -> SubscriptionStarted:
    return SubscriptionStarted(
        subscription_id=subscription.id,
        user_id=subscription.user_id,
        plan_id=subscription.plan_id,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        started_at=subscription.created_at,
        origin=ORIGIN,
        subscription_version=subscription.version,
    )


def subscription_cancelled(
    subscription: Subscription, voided_invoice_versions: dict[str, int]
) -> SubscriptionCancelled:
    """``voided_invoice_versions``: each voided invoice's id and version after voiding."""
    assert subscription.cancelled_at is not None
    return SubscriptionCancelled(
        subscription_id=subscription.id,
        user_id=subscription.user_id,
        cancelled_at=subscription.cancelled_at,
        voided_invoice_ids=sorted(voided_invoice_versions),
        origin=ORIGIN,
        subscription_version=subscription.version,
        voided_invoice_versions=voided_invoice_versions,
    )


def invoice_issued(invoice: Invoice, subscription: Subscription) -> InvoiceIssued:
    """``subscription``: the invoice's, its current period now the invoice's period."""
    return InvoiceIssued(
        invoice_id=invoice.id,
        subscription_id=invoice.subscription_id,
        user_id=invoice.user_id,
        amount_cents=invoice.amount_cents,
        currency=invoice.currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issued_at=invoice.issued_at,
        origin=ORIGIN,
        invoice_version=invoice.version,
        subscription_version=subscription.version,
    )


def _payment_copy(payment: Payment, invoice: Invoice) -> dict[str, Any]:
    return {
        "origin": ORIGIN,
        "invoice_version": invoice.version,
        "payment_version": payment.version,
        "idempotency_key": payment.idempotency_key,
        "card_last4": payment.card_last4,
        "payment_created_at": payment.created_at,
        "attempted_at": payment.attempted_at,
    }


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
        **_payment_copy(payment, invoice),
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
        **_payment_copy(payment, invoice),
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
        invoice_status=invoice.status,
        origin=ORIGIN,
        refund_version=refund.version,
        invoice_version=invoice.version,
        idempotency_key=refund.idempotency_key,
        reason=refund.reason,
        provider_refund_id=refund.provider_refund_id,
    )


def notification_sent(notification: Notification) -> NotificationSent:
    """The mail as handled, whole, for the notifications service's copy; after the flush."""
    return NotificationSent(
        notification_id=notification.id,
        user_id=notification.user_id,
        kind=notification.kind,
        recipient=notification.recipient,
        subject=notification.subject,
        status=notification.status,
        occurred_at=notification.sent_at or notification.created_at,
        origin=notification.origin,
        notification_version=notification.version,
        category=notification.category,
        body=notification.body,
        error=notification.error,
        created_at=notification.created_at,
        sent_at=notification.sent_at,
    )


def preferences_changed(preferences: NotificationPreferences) -> NotificationPreferencesChanged:
    """The user's choices as stored now, for the notifications service's copy; after the flush."""
    return NotificationPreferencesChanged(
        user_id=preferences.user_id,
        account_emails=preferences.account_emails,
        billing_emails=preferences.billing_emails,
        updated_at=preferences.updated_at,
        origin=preferences.origin,
        preferences_version=preferences.version,
    )
