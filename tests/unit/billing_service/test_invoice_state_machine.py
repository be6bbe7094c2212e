"""The invoice's states and the refund limits, on plain objects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from billing_service.domain import events
from billing_service.domain.customers import Customer
from billing_service.domain.errors import (
    InvoiceAlreadyPaid,
    InvoiceNotPayable,
    InvoiceNotRefundable,
    PaymentInProgress,
    RefundExceedsPayment,
)
from billing_service.domain.invoices import Invoice
from billing_service.domain.payments import Payment
from billing_service.domain.periods import next_period_end
from billing_service.domain.plans import Plan

NOW = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
PRO = Plan(id="pro", name="Pro", price_cents=2900, currency="eur")
ADA = Customer(id="ada", email="ada@example.com", name="Ada", registered_at=NOW, origin="tests")


def _invoice() -> Invoice:
    invoice = Invoice.issue(
        id="inv-1",
        subscription_id="sub-1",
        customer_id=ADA.id,
        period_start=NOW,
        period_end=next_period_end(NOW),
        plan=PRO,
        now=NOW,
    )
    invoice.events.clear()
    return invoice


def _payment(invoice: Invoice) -> Payment:
    return Payment(
        id="pay-1",
        invoice_id=invoice.id,
        customer_id="ada",
        idempotency_key="key-1",
        amount_cents=invoice.amount_cents,
        currency=invoice.currency,
        card_last4="4242",
        created_at=NOW,
    )


def _paid() -> tuple[Invoice, Payment]:
    invoice = _invoice()
    payment = _payment(invoice)
    invoice.start_payment()
    invoice.settle(payment, charge_id="ch_1", at=NOW)
    invoice.events.clear()
    return invoice, payment


def test_an_open_invoice_is_claimed_for_one_payment_at_a_time() -> None:
    invoice = _invoice()
    invoice.start_payment()

    with pytest.raises(PaymentInProgress):
        invoice.start_payment()
    assert invoice.status == "processing"


def test_only_the_retry_of_an_abandoned_attempt_takes_over_a_processing_invoice() -> None:
    invoice = _invoice()
    invoice.start_payment()

    invoice.start_payment(resuming_abandoned=True)

    assert invoice.status == "processing"


@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        ("paid", InvoiceAlreadyPaid),
        ("partially_refunded", InvoiceAlreadyPaid),
        ("refunded", InvoiceAlreadyPaid),
        ("void", InvoiceNotPayable),
    ],
)
def test_an_invoice_that_is_not_open_refuses_payment_by_its_state(
    status: str, refusal: type[Exception]
) -> None:
    invoice = _invoice()
    invoice.status = status  # type: ignore[assignment]

    with pytest.raises(refusal):
        invoice.start_payment(resuming_abandoned=True)


def test_settling_pays_the_invoice_and_records_the_payment() -> None:
    invoice = _invoice()
    payment = _payment(invoice)
    invoice.start_payment()

    invoice.settle(payment, charge_id="ch_1", at=NOW)

    assert (invoice.status, invoice.paid_at) == ("paid", NOW)
    assert (payment.status, payment.provider_charge_id, payment.completed_at) == (
        "succeeded",
        "ch_1",
        NOW,
    )
    assert invoice.events == [
        events.PaymentSucceeded(
            payment_id="pay-1",
            invoice_id="inv-1",
            subscription_id="sub-1",
            customer_id="ada",
            amount_cents=2900,
            currency="eur",
            provider_charge_id="ch_1",
            paid_at=NOW,
        )
    ]


def test_a_declined_card_opens_the_invoice_again_and_records_the_failure() -> None:
    invoice = _invoice()
    payment = _payment(invoice)
    invoice.start_payment()

    invoice.decline(payment, code="generic_decline", message="declined", at=NOW)

    assert (invoice.status, payment.status, payment.failure_code) == (
        "open",
        "failed",
        "generic_decline",
    )
    assert [type(event) for event in invoice.events] == [events.PaymentFailed]


def test_an_unanswered_attempt_opens_the_invoice_again_and_publishes_nothing() -> None:
    invoice = _invoice()
    payment = _payment(invoice)
    invoice.start_payment()

    invoice.interrupt(payment, timed_out=True, reason="no answer", at=NOW)

    assert (invoice.status, payment.status) == ("open", "timed_out")
    assert invoice.events == []


def test_a_refund_gives_back_all_that_is_left_unless_told_less() -> None:
    invoice, _ = _paid()

    assert invoice.refund_amount(None) == 2900
    assert invoice.refund_amount(900) == 900


def test_a_refund_cannot_exceed_what_is_left_of_the_payment() -> None:
    invoice, payment = _paid()
    invoice.record_refund(
        id="ref-1",
        payment=payment,
        idempotency_key="r1",
        amount_cents=2000,
        reason=None,
        provider_refund_id="re_1",
        at=NOW,
    )

    with pytest.raises(RefundExceedsPayment) as refused:
        invoice.refund_amount(901)

    assert (refused.value.remaining_cents, invoice.status) == (900, "partially_refunded")


def test_refunding_the_rest_leaves_the_invoice_refunded_and_refundable_no_more() -> None:
    invoice, payment = _paid()

    refund = invoice.record_refund(
        id="ref-1",
        payment=payment,
        idempotency_key="r1",
        amount_cents=2900,
        reason="changed my mind",
        provider_refund_id="re_1",
        at=NOW,
    )

    assert (invoice.status, invoice.amount_refunded_cents) == ("refunded", 2900)
    assert (refund.amount_cents, refund.payment_id, refund.reason) == (
        2900,
        "pay-1",
        "changed my mind",
    )
    assert [type(event) for event in invoice.events] == [events.RefundIssued]
    with pytest.raises(InvoiceNotRefundable):
        invoice.refund_amount(None)


@pytest.mark.parametrize("status", ["open", "processing", "void"])
def test_an_unpaid_invoice_is_not_refundable(status: str) -> None:
    invoice = _invoice()
    invoice.status = status  # type: ignore[assignment]

    with pytest.raises(InvoiceNotRefundable):
        invoice.refund_amount(None)
