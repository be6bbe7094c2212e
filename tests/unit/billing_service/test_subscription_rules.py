"""The subscription's rules, on plain objects: no database, no clock, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from billing_service.domain import events
from billing_service.domain.customers import Customer
from billing_service.domain.errors import AlreadySubscribed, SubscriptionNotActive, UnknownPlan
from billing_service.domain.periods import next_period_end
from billing_service.domain.plans import Plan
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer.handlers import invoice_for_current_period

NOW = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
PRO = Plan(id="pro", name="Pro", price_cents=2900, currency="eur")
ADA = Customer(id="ada", email="ada@example.com", name="Ada", registered_at=NOW, origin="tests")


def _started(
    plan: Plan = PRO, active: Subscription | None = None, id: str = "sub-1"
) -> Subscription:
    return Subscription.start(id=id, customer=ADA, plan=plan, active=active, now=NOW)


def test_starting_a_subscription_begins_a_monthly_period_and_records_it_started() -> None:
    subscription = _started()

    assert (subscription.status, subscription.customer_id, subscription.plan_id) == (
        "active",
        "ada",
        "pro",
    )
    assert subscription.current_period_start == NOW
    assert subscription.current_period_end == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert subscription.origin == "billing"
    assert subscription.events == [
        events.SubscriptionStarted(
            subscription_id="sub-1",
            customer_id="ada",
            plan_id="pro",
            period_start=NOW,
            period_end=subscription.current_period_end,
            started_at=NOW,
        )
    ]


def test_a_customer_with_an_active_subscription_cannot_start_another() -> None:
    with pytest.raises(AlreadySubscribed) as refused:
        _started(active=_started())

    assert (refused.value.subscription_id, refused.value.plan_id) == ("sub-1", "pro")


def test_a_retired_plan_cannot_be_subscribed_to() -> None:
    retired = Plan(id="legacy", name="Legacy", price_cents=500, currency="eur", active=False)

    with pytest.raises(UnknownPlan):
        _started(plan=retired)


def test_the_first_invoice_bills_the_plan_price_for_the_first_period() -> None:
    subscription = _started()

    invoice = invoice_for_current_period("inv-1", subscription, PRO, NOW)

    assert (invoice.status, invoice.amount_cents, invoice.currency) == ("open", 2900, "eur")
    assert (invoice.period_start, invoice.period_end) == (
        subscription.current_period_start,
        subscription.current_period_end,
    )
    assert [type(event) for event in invoice.events] == [events.InvoiceIssued]


def test_an_invoice_is_voided_only_for_its_own_subscription_and_only_while_open() -> None:
    subscription = _started()
    open_one = invoice_for_current_period("inv-b", subscription, PRO, NOW)
    being_paid = invoice_for_current_period("inv-a", subscription, PRO, NOW)
    being_paid.start_payment()
    someone_elses = invoice_for_current_period("inv-c", _started(id="sub-2"), PRO, NOW)

    voided = [i.void_for("sub-1") for i in (open_one, being_paid, someone_elses)]

    assert voided == [True, False, False]
    assert [open_one.status, being_paid.status, someone_elses.status] == [
        "void",
        "processing",
        "open",
    ]


def test_cancelling_records_the_invoices_that_end_with_the_subscription() -> None:
    subscription = _started()
    subscription.events.clear()

    subscription.cancel(NOW, voiding=["inv-b", "inv-a"])

    assert (subscription.status, subscription.cancelled_at) == ("cancelled", NOW)
    assert subscription.events == [
        events.SubscriptionCancelled(
            subscription_id="sub-1",
            customer_id="ada",
            cancelled_at=NOW,
            voided_invoice_ids=("inv-a", "inv-b"),
        )
    ]


def test_a_cancelled_subscription_cannot_be_cancelled_again() -> None:
    subscription = _started()
    subscription.cancel(NOW, voiding=[])

    with pytest.raises(SubscriptionNotActive) as refused:
        subscription.cancel(NOW, voiding=[])

    assert refused.value.status == "cancelled"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC)),
    ],
)
def test_a_period_ends_on_the_same_day_next_month_or_that_month_s_last_day(
    start: datetime, end: datetime
) -> None:
    assert next_period_end(start) == end
