"""Subscribing and cancelling through the service layer, built with fakes by ``bootstrap``."""

from __future__ import annotations

from typing import Any

import pytest
from billing_service.domain import events
from billing_service.domain.commands import CancelSubscription, Subscribe
from billing_service.domain.errors import (
    AlreadySubscribed,
    CustomerUnknown,
    SubscriptionNotActive,
    SubscriptionNotFound,
    UnknownPlan,
)
from billing_service.service_layer.billing import Billing
from legacy_monolith.seed import PLANS as MONOLITH_PLANS

from tests.unit.billing_service.fakes import FakeClock, FakeStore


async def test_subscribing_issues_the_first_invoice_and_publishes_both_with_the_commit(
    billing: Billing, store: FakeStore, clock: FakeClock
) -> None:
    created = await billing.subscribe(Subscribe("ada", "business"))

    subscription, invoice = created.subscription, created.invoice
    assert store.subscriptions[subscription.id].status == "active"
    assert store.invoices[invoice.id].subscription_id == subscription.id
    assert (invoice.amount_cents, invoice.currency, invoice.issued_at) == (9900, "eur", clock.now)
    assert [type(event) for event in store.published] == [
        events.SubscriptionStarted,
        events.InvoiceIssued,
    ]
    assert store.commits == 1


async def test_subscribing_before_billing_heard_of_the_user_is_refused_and_writes_nothing(
    billing: Billing, store: FakeStore
) -> None:
    before = store.snapshot()

    with pytest.raises(CustomerUnknown) as refused:
        await billing.subscribe(Subscribe("someone-new", "pro"))

    assert refused.value.customer_id == "someone-new"
    assert store.snapshot() == before
    assert store.published == []


async def test_subscribing_to_an_unknown_plan_is_refused_and_writes_nothing(
    billing: Billing, store: FakeStore
) -> None:
    before = store.snapshot()

    with pytest.raises(UnknownPlan):
        await billing.subscribe(Subscribe("ada", "platinum"))

    assert store.snapshot() == before


async def test_a_second_subscription_while_one_is_active_is_refused_and_writes_nothing(
    billing: Billing, store: FakeStore
) -> None:
    first = await billing.subscribe(Subscribe("ada", "pro"))
    before = store.snapshot()

    with pytest.raises(AlreadySubscribed) as refused:
        await billing.subscribe(Subscribe("ada", "starter"))

    assert refused.value.subscription_id == first.subscription.id
    assert store.snapshot() == before


async def test_cancelling_voids_the_open_invoice_and_allows_a_new_subscription(
    billing: Billing, store: FakeStore
) -> None:
    first = await billing.subscribe(Subscribe("ada", "pro"))

    cancelled = await billing.cancel_subscription(CancelSubscription("ada", first.subscription.id))
    second = await billing.subscribe(Subscribe("ada", "starter"))

    assert cancelled.status == "cancelled"
    assert store.invoices[first.invoice.id].status == "void"
    assert store.published[2] == events.SubscriptionCancelled(
        subscription_id=first.subscription.id,
        customer_id="ada",
        cancelled_at=cancelled.cancelled_at,  # type: ignore[arg-type]
        voided_invoice_ids=(first.invoice.id,),
    )
    assert second.subscription.plan_id == "starter"


async def test_cancelling_twice_is_refused(billing: Billing) -> None:
    created = await billing.subscribe(Subscribe("ada", "pro"))
    await billing.cancel_subscription(CancelSubscription("ada", created.subscription.id))

    with pytest.raises(SubscriptionNotActive):
        await billing.cancel_subscription(CancelSubscription("ada", created.subscription.id))


async def test_another_customer_s_subscription_is_as_unknown_as_a_missing_one(
    billing: Billing,
) -> None:
    created = await billing.subscribe(Subscribe("ada", "pro"))

    with pytest.raises(SubscriptionNotFound):
        await billing.subscription("bob", created.subscription.id)
    with pytest.raises(SubscriptionNotFound):
        await billing.cancel_subscription(CancelSubscription("bob", created.subscription.id))


async def test_lists_are_the_customer_s_own_newest_first_one_page_at_a_time(
    billing: Billing, clock: FakeClock
) -> None:
    ids = []
    for plan in ("starter", "pro", "business"):
        created = await billing.subscribe(Subscribe("ada", plan))
        ids.append(created.subscription.id)
        await billing.cancel_subscription(CancelSubscription("ada", created.subscription.id))
        clock.advance(60)

    page, total = await billing.subscriptions("ada", limit=2, offset=0)
    rest, _ = await billing.subscriptions("ada", limit=2, offset=2)
    invoices, invoice_total = await billing.invoices("ada", limit=20, offset=0)

    assert total == 3
    assert [s.id for s in [*page, *rest]] == list(reversed(ids))
    assert (invoice_total, {i.status for i in invoices}) == (3, {"void"})
    assert await billing.subscriptions("bob", limit=20, offset=0) == ([], 0)


async def test_the_plan_catalogue_is_the_one_the_monolith_is_seeded_with(
    billing: Billing,
) -> None:
    plans, total = await billing.plans(limit=20, offset=0)

    def described(plan: Any) -> tuple[str, str, int, str, str]:
        return (plan.id, plan.name, plan.price_cents, plan.currency, plan.interval)

    assert total == len(MONOLITH_PLANS)
    assert [described(p) for p in plans] == sorted(
        (described(p) for p in MONOLITH_PLANS), key=lambda plan: (plan[2], plan[0])
    )
