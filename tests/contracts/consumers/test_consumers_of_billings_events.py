"""Billing's events (``strangler.billing``), as each consumer reads them: a CloudEvent 1.0
envelope decoded by the contracts' registry, then

- the monolith's anti-corruption layer (``legacy_monolith.billing_sync.acl``: a
  ``SyncConsumer`` with ``BILLING_RECORDS``) turns a subscription started at billing into
  the ``subscriptions`` record, an invoice issued there into the ``invoices`` record and
  the subscription's period, a payment into the ``payments`` record and the paid invoice,
  and a refund into the ``refunds`` record and the invoice's refunded sum, a checkout's
  subscription activated, a subscription cancelled (its unpaid invoices voided) and a
  declined payment (the invoice open again) — each with billing's version and origin, never
  taken for the monolith's own;
- notifications (``MailChoreography.apply``) keeps a subscription's plan (for its invoices'
  mails) and mails the invoice (amount, period), the payment and the refund (amount,
  invoice), and a declined payment (amount, the provider's words);
- the monolith, as the accounts side of an account closure (``strangler_closures``), folds
  billing's answers — ``BillingClosedForAccount``, ``AccountClosureRefundDeclined`` — into
  the closure they name (tests/contracts/consumers/closure_answers.py), and notifications
  (``ClosureMails``) mails the farewell or why the closure paused.

Billing verifies by subscribing a customer through ``POST /api/billing/subscriptions`` at a
real billing process (then paying the invoice, then refunding it, against a real payment
simulator) and handing over the outbox rows it committed; its answers to a closure by
giving a real billing process ``AccountClosureRequested`` over the broker
(tests/contracts/providers/test_billing_events.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from notifications_service.service_layer.account_closure import CLOSURE_EVENTS, ClosureMails
from pact import Pact, match
from strangler_contracts import CloudEvent
from strangler_contracts.records import BILLING_RECORDS
from strangler_contracts.registry import decode

from tests.contracts.consumers.closure_answers import (
    BILLING_ANSWERS,
    MonolithAcl,
    cloud_event,
    when,
)
from tests.contracts.consumers.notifications_reading import KeptMails, RecipientBook
from tests.contracts.pacts import pact_dir

START, END = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
STATE = "a customer subscribes to a plan at billing"
_when = when


def _envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return cloud_event("/billing", event_type, data)


SUBSCRIPTION_STARTED = _envelope(
    "dev.strangler-fig.billing.subscription-started.v1",
    {
        "subscription_id": match.str("sub-1"),
        "user_id": match.str("42"),
        "plan_id": match.str("pro"),
        "period_start": _when(),
        "period_end": _when(END),
        "started_at": _when(),
        "subscription_version": match.int(1),
        "origin": "billing",
    },
)
INVOICE_ISSUED = _envelope(
    "dev.strangler-fig.billing.invoice-issued.v1",
    {
        "invoice_id": match.str("inv-1"),
        "subscription_id": match.str("sub-1"),
        "user_id": match.str("42"),
        "amount_cents": match.int(2900),
        "currency": match.str("EUR"),
        "period_start": _when(),
        "period_end": _when(END),
        "issued_at": _when(),
        "invoice_version": match.int(1),
        "subscription_version": match.int(1),
        "origin": "billing",
    },
)

PAYMENT_SUCCEEDED = _envelope(
    "dev.strangler-fig.billing.payment-succeeded.v1",
    {
        "payment_id": match.str("pay-1"),
        "invoice_id": match.str("inv-1"),
        "subscription_id": match.str("sub-1"),
        "user_id": match.str("42"),
        "amount_cents": match.int(2900),
        "currency": match.str("EUR"),
        "provider_charge_id": match.str("ch_1"),
        "paid_at": _when(),
    },
)
REFUND_ISSUED = _envelope(
    "dev.strangler-fig.billing.refund-issued.v1",
    {
        "refund_id": match.str("ref-1"),
        "invoice_id": match.str("inv-1"),
        "payment_id": match.str("pay-1"),
        "subscription_id": match.str("sub-1"),
        "user_id": match.str("42"),
        "amount_cents": match.int(2900),
        "currency": match.str("EUR"),
        "invoice_refunded_cents": match.int(2900),
        "refunded_at": _when(),
    },
)
# What the monolith's ACL needs besides what a mail needs: the versions it orders copies by,
# and the payment's and refund's own fields (``strangler_contracts.records``).
ACL_PAYMENT_SUCCEEDED = _envelope(
    "dev.strangler-fig.billing.payment-succeeded.v1",
    {
        **PAYMENT_SUCCEEDED["data"],
        "invoice_version": match.int(2),
        "payment_version": match.int(1),
        "idempotency_key": match.str("pay-inv-1"),
        "card_last4": match.str("4242"),
        "payment_created_at": _when(),
        "attempted_at": _when(),
    },
)
ACL_REFUND_ISSUED = _envelope(
    "dev.strangler-fig.billing.refund-issued.v1",
    {
        **REFUND_ISSUED["data"],
        "invoice_status": match.str("refunded"),
        "refund_version": match.int(1),
        "invoice_version": match.int(3),
        "idempotency_key": match.str("refund-inv-1"),
    },
)
# What notifications needs of a subscription: its plan, for its invoices' mails.
NOTIFICATIONS_SUBSCRIPTION_STARTED = _envelope(
    "dev.strangler-fig.billing.subscription-started.v1",
    {
        key: SUBSCRIPTION_STARTED["data"][key]
        for key in ("subscription_id", "user_id", "plan_id", "period_start", "period_end")
    }
    | {"started_at": _when()},
)
PAYMENT_FAILED = _envelope(
    "dev.strangler-fig.billing.payment-failed.v1",
    {
        "payment_id": match.str("pay-1"),
        "invoice_id": match.str("inv-1"),
        "subscription_id": match.str("sub-1"),
        "user_id": match.str("42"),
        "amount_cents": match.int(2900),
        "currency": match.str("EUR"),
        "failure_code": match.str("generic_decline"),
        "failure_message": match.str("Your card was declined."),
        "failed_at": _when(),
    },
)
DECLINED = "a customer's card is declined at billing"
CHECKED_OUT = "a customer checks out at billing"
CANCELLED = "a customer cancels an unpaid subscription at billing"
# What the monolith's ACL reads of a checkout's end, a cancellation and a declined payment.
SUBSCRIPTION_ACTIVATED = _envelope(
    "dev.strangler-fig.billing.subscription-activated.v1",
    {
        "subscription_id": match.str("sub-1"),
        "user_id": match.str("42"),
        "plan_id": match.str("pro"),
        "invoice_id": match.str("inv-1"),
        "activated_at": _when(),
        "subscription_version": match.int(2),
    },
)
SUBSCRIPTION_CANCELLED = _envelope(
    "dev.strangler-fig.billing.subscription-cancelled.v1",
    {
        "subscription_id": match.str("sub-1"),
        "user_id": match.str("42"),
        "cancelled_at": _when(),
        "voided_invoice_ids": match.each_like("inv-1", min=1),
        "subscription_version": match.int(2),
        "voided_invoice_versions": match.each_value_matches({"inv-1": 2}, rules=match.int(2)),
    },
)
ACL_PAYMENT_FAILED = _envelope(
    "dev.strangler-fig.billing.payment-failed.v1",
    {
        **PAYMENT_FAILED["data"],
        "invoice_version": match.int(2),
        "payment_version": match.int(1),
        "idempotency_key": match.str("pay-inv-1"),
        "card_last4": match.str("0002"),
        "payment_created_at": _when(),
        "attempted_at": _when(),
    },
)
PAID = "a customer pays an invoice at billing"
REFUNDED = "a customer's paid invoice is refunded at billing"


def test_the_monoliths_acl_reads_billings_changes_into_its_records() -> None:
    pact = Pact("legacy-monolith", "billing-events").with_specification("V4")
    for description, state, body in [
        ("a SubscriptionStarted event", STATE, SUBSCRIPTION_STARTED),
        ("an InvoiceIssued event", STATE, INVOICE_ISSUED),
        ("a PaymentSucceeded event", PAID, ACL_PAYMENT_SUCCEEDED),
        ("a RefundIssued event", REFUNDED, ACL_REFUND_ISSUED),
        ("a SubscriptionActivated event", CHECKED_OUT, SUBSCRIPTION_ACTIVATED),
        ("a SubscriptionCancelled event", CANCELLED, SUBSCRIPTION_CANCELLED),
        ("a PaymentFailed event", DECLINED, ACL_PAYMENT_FAILED),
        *BILLING_ANSWERS,
    ]:
        pact.upon_receiving(description, "Async").given(state).with_body(body, "application/json")
    the_acl = MonolithAcl(BILLING_RECORDS.translate)
    pact.verify(the_acl, "Async")
    changes, closures = the_acl.changes, the_acl.closures
    pact.write_file(pact_dir(), overwrite=True)
    assert sorted((c.entity, c.origin, c.complete) for c in changes) == [
        ("invoices", "billing", False),  # paid
        ("invoices", "billing", False),  # refunded
        ("invoices", "billing", False),  # voided
        ("invoices", "billing", False),  # open again, its payment declined
        ("invoices", "billing", True),
        ("payments", "billing", True),
        ("payments", "billing", True),  # declined
        ("refunds", "billing", True),
        ("subscriptions", "billing", False),  # the invoice's period
        ("subscriptions", "billing", False),  # active
        ("subscriptions", "billing", False),  # cancelled
        ("subscriptions", "billing", True),
    ]
    statuses = {(c.entity, c.fields.get("status")) for c in changes}
    assert {("subscriptions", "active"), ("subscriptions", "cancelled")} <= statuses
    assert {("invoices", "void"), ("payments", "failed")} <= statuses
    assert closures.outcomes() == [
        ("paused", "declined", None, None, None, "The card's issuer declined the refund."),
        ("requested", "done", None, 2850, "EUR", None),
    ]


def test_notifications_mails_billings_invoice() -> None:
    pact = Pact("notifications", "billing-events").with_specification("V4")
    for description, state, body in [
        ("a SubscriptionStarted event", STATE, NOTIFICATIONS_SUBSCRIPTION_STARTED),
        ("an InvoiceIssued event", STATE, INVOICE_ISSUED),
        ("a PaymentSucceeded event", PAID, PAYMENT_SUCCEEDED),
        ("a PaymentFailed event", DECLINED, PAYMENT_FAILED),
        ("a RefundIssued event", REFUNDED, REFUND_ISSUED),
        *BILLING_ANSWERS,
    ]:
        pact.upon_receiving(description, "Async").given(state).with_body(body, "application/json")
    mails: list[str] = []
    book, choreography = RecipientBook(mails), KeptMails(mails)
    closure_mails = ClosureMails(choreography)

    def notifications_reads(body: str | bytes | None, metadata: dict[str, object]) -> None:
        # The consumer's handlers: a closure's answers to ClosureMails, the rest to the
        # choreography.
        envelope = CloudEvent.model_validate_json(body or b"")
        event = decode(envelope)
        reads = closure_mails if isinstance(event, CLOSURE_EVENTS) else choreography
        asyncio.run(reads.apply(book, event, envelope))  # type: ignore[arg-type]

    pact.verify(notifications_reads, "Async")
    pact.write_file(pact_dir(), overwrite=True)
    assert sorted(mails) == [
        "account_closure_paused",
        "farewell",
        "invoice_issued",
        "payment_failed",
        "payment_succeeded",
        "plan pro of sub-1",
        "refund_issued",
    ]
