"""A checkout step's records come from PostgreSQL in one read: each by its id, the
customer's current subscription with them, and a missing one as None beside the others."""

from __future__ import annotations

from billing_service.domain.commands import Subscribe
from billing_service.service_layer.billing import Billing
from fastapi import FastAPI

from tests.support.monolith_api import Customer


async def test_one_read_finds_each_record_and_none_for_a_missing_one(
    app: FastAPI, customer: Customer
) -> None:
    billing: Billing = app.root.billing
    async with billing.unit_of_work() as uow:
        before = await uow.read(
            customer_id=customer.id,
            plan_id="pro",
            invoice_id="no-such-invoice",
            current_subscription_of=customer.id,
        )
    assert before.customer is not None
    assert before.customer.id == customer.id
    assert before.plan is not None
    assert before.plan.id == "pro"
    assert before.invoice is None
    assert before.current_subscription is None

    subscribed = await billing.subscribe(Subscribe(customer.id, "pro"))
    async with billing.unit_of_work() as uow:
        after = await uow.read(
            subscription_id=subscribed.subscription.id,
            invoice_id=subscribed.invoice.id,
            current_subscription_of=customer.id,
        )
        again = await uow.subscriptions.get(subscribed.subscription.id)
    assert after.subscription is not None
    assert after.subscription.status == "active"
    assert after.current_subscription is after.subscription is again  # one record, loaded once
    assert after.invoice is not None
    assert after.invoice.subscription_id == after.subscription.id
    assert after.customer is None
    assert after.plan is None
