"""Paying and refunding through the service layer: never twice, whatever is retried."""

from __future__ import annotations

import pytest
from billing_service.domain import events
from billing_service.domain.commands import (
    CancelSubscription,
    PayInvoice,
    RefundInvoice,
    Subscribe,
)
from billing_service.domain.errors import (
    CardWasDeclined,
    IdempotencyKeyReused,
    InvoiceAlreadyPaid,
    InvoiceNotFound,
    InvoiceNotRefundable,
    PaymentInProgress,
    PaymentProviderTimedOut,
    RefundExceedsPayment,
)
from billing_service.service_layer.billing import Billing
from billing_service.service_layer.handlers import Subscribed
from strangler_contracts.payments import payment_attempt_id

from tests.unit.billing_service.conftest import PROVIDER_TIMEOUT
from tests.unit.billing_service.fakes import (
    DECLINED_CARD,
    GOOD_CARD,
    HANGING_CARD,
    FakeClock,
    FakePaymentProvider,
    FakeStore,
    ProcessDied,
)


@pytest.fixture
async def subscribed(billing: Billing) -> Subscribed:
    return await billing.subscribe(Subscribe("ada", "pro"))


def _pay(subscribed: Subscribed, card: str = GOOD_CARD, key: str | None = "key-1") -> PayInvoice:
    return PayInvoice("ada", subscribed.invoice.id, card, key)


async def test_a_good_card_pays_the_invoice_once_and_publishes_the_payment(
    billing: Billing, subscribed: Subscribed, store: FakeStore, payments: FakePaymentProvider
) -> None:
    outcome = await billing.pay_invoice(_pay(subscribed))

    assert (outcome.replayed, outcome.payment.status, outcome.invoice.status) == (
        False,
        "succeeded",
        "paid",
    )
    assert outcome.payment.card_last4 == "4242"
    assert [c.amount_cents for c in payments.charged()] == [2900]
    assert payments.requests[0].key == f"payment-{outcome.payment.id}"
    assert payments.requests[0].description == f"Invoice {subscribed.invoice.id}"
    assert isinstance(store.published[-1], events.PaymentSucceeded)


async def test_paying_again_with_the_same_key_replays_the_payment_and_charges_nothing_more(
    billing: Billing, subscribed: Subscribed, store: FakeStore, payments: FakePaymentProvider
) -> None:
    first = await billing.pay_invoice(_pay(subscribed))
    published = len(store.published)

    again = await billing.pay_invoice(_pay(subscribed))

    assert again.replayed
    assert again.payment.id == first.payment.id
    assert len(payments.charged()) == 1
    assert len(store.published) == published


async def test_paying_a_paid_invoice_with_another_key_is_refused_as_already_paid(
    billing: Billing, subscribed: Subscribed, payments: FakePaymentProvider
) -> None:
    await billing.pay_invoice(_pay(subscribed))

    with pytest.raises(InvoiceAlreadyPaid):
        await billing.pay_invoice(_pay(subscribed, key="key-2"))
    assert len(payments.charged()) == 1


async def test_a_declined_card_leaves_the_invoice_open_and_its_key_answers_declined_again(
    billing: Billing, subscribed: Subscribed, store: FakeStore, payments: FakePaymentProvider
) -> None:
    with pytest.raises(CardWasDeclined) as declined:
        await billing.pay_invoice(_pay(subscribed, DECLINED_CARD))
    with pytest.raises(CardWasDeclined) as again:
        await billing.pay_invoice(_pay(subscribed, DECLINED_CARD))

    assert declined.value.code == again.value.code == "generic_decline"
    assert again.value.payment_id == declined.value.payment_id
    assert len(payments.requests) == 1
    assert store.invoices[subscribed.invoice.id].status == "open"
    assert isinstance(store.published[-1], events.PaymentFailed)
    paid = await billing.pay_invoice(_pay(subscribed, key="key-2"))
    assert paid.invoice.status == "paid"


async def test_a_timed_out_payment_is_resumed_under_the_same_provider_key(
    billing: Billing, subscribed: Subscribed, store: FakeStore, payments: FakePaymentProvider
) -> None:
    payments.timing_out = True
    with pytest.raises(PaymentProviderTimedOut):
        await billing.pay_invoice(_pay(subscribed))
    assert store.invoices[subscribed.invoice.id].status == "open"
    payments.timing_out = False

    resumed = await billing.pay_invoice(_pay(subscribed))

    assert resumed.payment.status == "succeeded"
    assert [r.key for r in payments.requests] == [f"payment-{resumed.payment.id}"] * 2
    assert len(payments.charged()) == 1


async def test_an_attempt_cut_off_mid_call_is_taken_over_under_its_provider_key_once_abandoned(
    billing: Billing,
    subscribed: Subscribed,
    store: FakeStore,
    payments: FakePaymentProvider,
    clock: FakeClock,
) -> None:
    payments.die_on_next_charge = True
    with pytest.raises(ProcessDied):
        await billing.pay_invoice(_pay(subscribed))
    assert store.invoices[subscribed.invoice.id].status == "processing"

    with pytest.raises(PaymentInProgress):
        await billing.pay_invoice(_pay(subscribed))
    with pytest.raises(PaymentInProgress):
        await billing.pay_invoice(_pay(subscribed, key="another-key"))
    clock.advance(3 * PROVIDER_TIMEOUT.total_seconds() + 1)
    resumed = await billing.pay_invoice(_pay(subscribed, key="another-key"))

    assert resumed.invoice.status == "paid"
    assert {r.key for r in payments.requests} == {f"payment-{resumed.payment.id}"}
    assert len(payments.charged()) == 1


async def test_a_key_that_paid_another_invoice_is_refused(
    billing: Billing, subscribed: Subscribed, store: FakeStore
) -> None:
    await billing.pay_invoice(_pay(subscribed))
    await billing.cancel_subscription(CancelSubscription("ada", subscribed.subscription.id))
    second = await billing.subscribe(Subscribe("ada", "starter"))
    before = store.snapshot()

    with pytest.raises(IdempotencyKeyReused):
        await billing.pay_invoice(PayInvoice("ada", second.invoice.id, GOOD_CARD, "key-1"))
    assert store.snapshot() == before


async def test_another_customer_s_invoice_is_as_unknown_as_a_missing_one(
    billing: Billing, subscribed: Subscribed, payments: FakePaymentProvider
) -> None:
    with pytest.raises(InvoiceNotFound):
        await billing.pay_invoice(PayInvoice("bob", subscribed.invoice.id, GOOD_CARD, "k"))
    with pytest.raises(InvoiceNotFound):
        await billing.invoice("bob", subscribed.invoice.id)
    assert payments.requests == []


async def test_a_hanging_card_answers_a_timeout_and_charges_nothing(
    billing: Billing, subscribed: Subscribed, payments: FakePaymentProvider
) -> None:
    with pytest.raises(PaymentProviderTimedOut):
        await billing.pay_invoice(_pay(subscribed, HANGING_CARD))

    assert payments.charged() == []


async def test_refunding_twice_with_the_same_key_refunds_once(
    billing: Billing, subscribed: Subscribed, store: FakeStore, payments: FakePaymentProvider
) -> None:
    await billing.pay_invoice(_pay(subscribed))
    command = RefundInvoice("ada", subscribed.invoice.id, 900, "too much", "refund-1")

    first = await billing.refund_invoice(command)
    again = await billing.refund_invoice(command)

    assert (first.replayed, again.replayed) == (False, True)
    assert again.refund.id == first.refund.id
    assert len(payments.refunds) == 1
    assert store.invoices[subscribed.invoice.id].status == "partially_refunded"
    assert [type(e) for e in store.published].count(events.RefundIssued) == 1


async def test_a_refund_defaults_to_the_rest_and_then_nothing_is_refundable(
    billing: Billing, subscribed: Subscribed
) -> None:
    await billing.pay_invoice(_pay(subscribed))
    await billing.refund_invoice(RefundInvoice("ada", subscribed.invoice.id, 900, None, "r1"))

    rest = await billing.refund_invoice(RefundInvoice("ada", subscribed.invoice.id))

    assert (rest.refund.amount_cents, rest.invoice.status) == (2000, "refunded")
    with pytest.raises(InvoiceNotRefundable):
        await billing.refund_invoice(RefundInvoice("ada", subscribed.invoice.id))


async def test_refunding_more_than_was_paid_is_refused_before_the_provider_is_asked(
    billing: Billing, subscribed: Subscribed, payments: FakePaymentProvider
) -> None:
    await billing.pay_invoice(_pay(subscribed))

    with pytest.raises(RefundExceedsPayment):
        await billing.refund_invoice(RefundInvoice("ada", subscribed.invoice.id, 2901))
    assert payments.refunds == {}


async def test_an_unpaid_invoice_is_not_refundable(
    billing: Billing, subscribed: Subscribed
) -> None:
    with pytest.raises(InvoiceNotRefundable):
        await billing.refund_invoice(RefundInvoice("ada", subscribed.invoice.id))


async def test_each_payment_is_named_by_its_invoice_and_attempt_whatever_the_caller_s_key(
    billing: Billing, subscribed: Subscribed, payments: FakePaymentProvider
) -> None:
    invoice_id = subscribed.invoice.id
    with pytest.raises(CardWasDeclined):
        await billing.pay_invoice(_pay(subscribed, DECLINED_CARD, key="first-try"))

    paid = await billing.pay_invoice(_pay(subscribed, key="second-try"))

    first, second = payment_attempt_id(invoice_id, 1), payment_attempt_id(invoice_id, 2)
    assert paid.payment.id == second
    assert [r.key for r in payments.requests] == [f"payment-{first}", f"payment-{second}"]


async def test_an_attempt_the_provider_runs_for_another_request_stays_pending_and_is_in_progress(
    billing: Billing, subscribed: Subscribed, store: FakeStore, payments: FakePaymentProvider
) -> None:
    payments.held_elsewhere.add(f"payment-{payment_attempt_id(subscribed.invoice.id, 1)}")

    with pytest.raises(PaymentInProgress):
        await billing.pay_invoice(_pay(subscribed))

    assert store.invoices[subscribed.invoice.id].status == "processing"
    assert [p.status for p in store.payments.values()] == ["pending"]
    assert payments.charged() == []
