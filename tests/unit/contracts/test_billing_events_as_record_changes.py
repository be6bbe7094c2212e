"""What each billing event says about billing's records: the same translation on both sides."""

from __future__ import annotations

from datetime import UTC, datetime

from strangler_contracts import (
    InvoiceIssued,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionStarted,
)
from strangler_contracts.records import BILLING_FIELDS, RecordChange, billing_record_changes

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
BILLED = {"subscription_id": "sub", "user_id": "usr"}


def test_a_started_subscription_is_a_whole_record_at_its_version() -> None:
    event = SubscriptionStarted(
        **BILLED,
        plan_id="pro",
        period_start=NOW,
        period_end=LATER,
        started_at=NOW,
        origin="billing",
        subscription_version=1,
    )

    [change] = billing_record_changes(event, "billing")

    assert (change.entity, change.id, change.version, change.origin) == (
        "subscriptions",
        "sub",
        1,
        "billing",
    )
    assert change.complete
    assert set(change.fields) == set(BILLING_FIELDS["subscriptions"])


def test_a_checkout_s_subscription_starts_pending_and_its_activation_makes_it_active() -> None:
    started = SubscriptionStarted(
        **BILLED,
        plan_id="pro",
        period_start=NOW,
        period_end=LATER,
        started_at=NOW,
        subscription_version=1,
        status="pending",
    )
    activated = SubscriptionActivated(
        **BILLED, plan_id="pro", invoice_id="inv", activated_at=LATER, subscription_version=3
    )

    [pending] = billing_record_changes(started, "billing")
    [active] = billing_record_changes(activated, "billing")

    assert pending.fields["status"] == "pending"
    assert active == RecordChange("subscriptions", "sub", 3, "billing", {"status": "active"})


def test_a_cancellation_updates_the_subscription_and_voids_each_invoice_at_its_version() -> None:
    event = SubscriptionCancelled(
        **BILLED,
        cancelled_at=NOW,
        voided_invoice_ids=["i1", "i2"],
        subscription_version=2,
        voided_invoice_versions={"i1": 3, "i2": 2},
    )

    changes = billing_record_changes(event, "legacy-monolith")

    assert [(c.entity, c.id, c.version, c.complete) for c in changes] == [
        ("subscriptions", "sub", 2, False),
        ("invoices", "i1", 3, False),
        ("invoices", "i2", 2, False),
    ]
    assert changes[1].fields == {"status": "void", "paid_at": None, "amount_refunded_cents": 0}


def test_a_renewal_invoice_moves_its_subscription_to_the_invoice_s_period() -> None:
    event = InvoiceIssued(
        invoice_id="inv",
        **BILLED,
        amount_cents=2900,
        currency="EUR",
        period_start=NOW,
        period_end=LATER,
        issued_at=NOW,
        invoice_version=1,
        subscription_version=3,
    )

    subscription, invoice = billing_record_changes(event, "legacy-monolith")

    assert subscription == RecordChange(
        "subscriptions",
        "sub",
        3,
        "legacy-monolith",
        {"current_period_start": NOW, "current_period_end": LATER},
    )
    assert (invoice.entity, invoice.complete, invoice.fields["status"]) == (
        "invoices",
        True,
        "open",
    )


def test_a_payment_and_a_refund_carry_whole_records_and_their_invoice_s_change() -> None:
    paid = PaymentSucceeded(
        payment_id="pay",
        invoice_id="inv",
        **BILLED,
        amount_cents=2900,
        currency="EUR",
        provider_charge_id="ch",
        paid_at=NOW,
        invoice_version=3,
        payment_version=2,
        idempotency_key="k",
        card_last4="4242",
        payment_created_at=NOW,
        attempted_at=NOW,
    )
    refunded = RefundIssued(
        refund_id="ref",
        invoice_id="inv",
        payment_id="pay",
        **BILLED,
        amount_cents=900,
        currency="EUR",
        invoice_refunded_cents=900,
        refunded_at=LATER,
        invoice_status="partially_refunded",
        refund_version=1,
        invoice_version=4,
        idempotency_key="r",
        reason=None,
        provider_refund_id="re",
    )

    payment, paid_invoice = billing_record_changes(paid, "billing")
    refund, refunded_invoice = billing_record_changes(refunded, "billing")

    assert (payment.entity, payment.version, payment.complete) == ("payments", 2, True)
    assert payment.fields["status"] == "succeeded"
    assert paid_invoice.fields == {"status": "paid", "paid_at": NOW, "amount_refunded_cents": 0}
    assert (refund.entity, refund.complete, set(refund.fields)) == (
        "refunds",
        True,
        set(BILLING_FIELDS["refunds"]),
    )
    assert refunded_invoice.fields == {"amount_refunded_cents": 900, "status": "partially_refunded"}


def test_an_event_written_before_two_way_sync_changes_nothing_by_itself() -> None:
    old = SubscriptionStarted(
        **BILLED, plan_id="pro", period_start=NOW, period_end=LATER, started_at=NOW
    )

    assert billing_record_changes(old, "legacy-monolith") == []


def test_a_declined_payment_leaves_its_invoice_open_with_nothing_paid_and_nothing_refunded() -> (
    None
):
    declined = PaymentFailed(
        payment_id="pay",
        invoice_id="inv",
        **BILLED,
        amount_cents=2900,
        currency="EUR",
        failure_code="generic_decline",
        failure_message="declined",
        failed_at=NOW,
        invoice_version=3,
        payment_version=2,
        idempotency_key="k",
        card_last4="0002",
        payment_created_at=NOW,
        attempted_at=NOW,
    )

    payment, invoice = billing_record_changes(declined, "legacy-monolith")

    assert payment.fields["status"] == "failed"
    # The whole of what an unpaid invoice holds: winning a tie against a payment made on the
    # other side at the same version, it also takes back that payment's time.
    assert invoice == RecordChange(
        "invoices",
        "inv",
        3,
        "legacy-monolith",
        {"status": "open", "paid_at": None, "amount_refunded_cents": 0},
    )
