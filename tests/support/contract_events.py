"""One realistic instance of every contract event, with random ids, and the lib's folder."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from strangler_contracts import (
    AccountClosed,
    AccountClosureRefundDeclined,
    AccountClosureRequested,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
    InvoiceIssued,
    NotificationPreferencesChanged,
    NotificationSent,
    PasswordChanged,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionStarted,
    UserAccountChanged,
    UserProfileChanged,
    UserRegistered,
)
from strangler_contracts.base import IntegrationEvent

__all__ = ["CONTRACTS_LIB", "example_events"]

CONTRACTS_LIB = Path(__file__).resolve().parents[2] / "libs" / "contracts"


def _id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def example_events() -> list[IntegrationEvent]:
    """One event of every type, all about one user and one subscription."""
    now = datetime.now(UTC).replace(microsecond=0)
    user, subscription = _id("usr"), _id("sub")
    invoice, payment = _id("inv"), _id("pay")
    period = {"period_start": now, "period_end": now + timedelta(days=30)}
    money = {"amount_cents": 2900, "currency": "EUR"}
    billed = {"subscription_id": subscription, "user_id": user}
    return [
        UserRegistered(
            user_id=user, email=f"{user}@example.com", display_name="Erin", registered_at=now
        ),
        PasswordChanged(user_id=user, changed_at=now, origin="auth"),
        UserProfileChanged(user_id=user, display_name="Erin E.", changed_at=now, origin="auth"),
        UserAccountChanged(
            user_id=user,
            user_version=3,
            origin="auth",
            change="profile-changed",
            email=f"{user}@example.com",
            email_key=f"{user}@example.com",
            display_name="Erin E.",
            password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            password_changed_at=now,
            registered_at=now - timedelta(days=1),
        ),
        SubscriptionStarted(**billed, plan_id="pro", started_at=now, **period),
        InvoiceIssued(invoice_id=invoice, **billed, **money, issued_at=now, **period),
        PaymentFailed(
            payment_id=_id("pay"),
            invoice_id=invoice,
            **billed,
            **money,
            failure_code="generic_decline",
            failure_message="The card was declined.",
            failed_at=now,
        ),
        PaymentSucceeded(
            payment_id=payment,
            invoice_id=invoice,
            **billed,
            **money,
            provider_charge_id=_id("ch"),
            paid_at=now,
        ),
        RefundIssued(
            refund_id=_id("ref"),
            invoice_id=invoice,
            payment_id=payment,
            **billed,
            amount_cents=900,
            currency="EUR",
            invoice_refunded_cents=900,
            refunded_at=now,
        ),
        SubscriptionActivated(**billed, plan_id="pro", invoice_id=invoice, activated_at=now),
        SubscriptionCancelled(**billed, cancelled_at=now, voided_invoice_ids=[_id("inv")]),
        NotificationSent(
            notification_id=_id("ntf"),
            user_id=user,
            kind="payment_succeeded",
            recipient=f"{user}@example.com",
            subject="Payment received",
            status="sent",
            occurred_at=now,
        ),
        NotificationPreferencesChanged(
            user_id=user,
            account_emails=True,
            billing_emails=False,
            updated_at=now,
            origin="legacy-monolith",
            preferences_version=2,
        ),
        *_closure_events(user, subscription, invoice, now),
    ]


def _closure_events(
    user: str, subscription: str, invoice: str, now: datetime
) -> list[IntegrationEvent]:
    """One closure of ``user``'s account: requested, each participant's outcome, closed."""
    closure = {"closure_id": _id("cls"), "user_id": user}
    return [
        AccountClosureRequested(
            **closure, email=f"{user}@example.com", display_name="Erin", requested_at=now
        ),
        AccountClosureRefundDeclined(
            **closure,
            subscription_id=subscription,
            invoice_id=invoice,
            amount_cents=1450,
            currency="EUR",
            reason="The refund was declined by the card issuer.",
            declined_at=now,
        ),
        BillingClosedForAccount(
            **closure,
            cancelled_subscription_id=subscription,
            refund_id=_id("ref"),
            refunded_cents=1450,
            currency="EUR",
            closed_at=now,
        ),
        FarewellSentAndDataErased(
            **closure,
            farewell_message_id=f"<{_id('msg')}@strangler-fig>",
            erased_records=4,
            erased_at=now,
        ),
        AccountClosed(**closure, closed_at=now),
    ]
