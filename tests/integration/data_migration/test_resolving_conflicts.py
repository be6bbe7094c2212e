"""Both sides change the same record before either has heard of the other's change; once the
changes cross, both hold the same winner, by the rule in services/billing/README.md: the
higher version wins; on the same version, the monolith (the system of record) wins.

Each test writes on both sides with the sync stopped (the relays publish), then starts the
sync on both sides and waits for them to agree.
"""

from __future__ import annotations

from typing import Any

import pytest
from billing_service.adapters.orm import invoices as billing_invoices
from billing_service.adapters.orm import subscriptions as billing_subscriptions
from legacy_monolith.models import Invoice, Subscription
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.data_migration.conftest import (
    Databases,
    Launch,
    backfill,
    cancel,
    in_sync,
)
from tests.support.monolith_api import (
    DECLINED_CARD,
    Customer,
    assert_problem,
    pay,
    sign_up,
    subscribe,
)

pytestmark = pytest.mark.integration

LEGACY_SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[assignment]
LEGACY_INVOICES: Table = Invoice.__table__  # type: ignore[assignment]


async def _row(engine: AsyncEngine, table: Table, key: str) -> dict[str, Any]:
    async with engine.connect() as connection:
        row = (await connection.execute(select(table).where(table.c.id == key))).one()
    return dict(row._mapping)


async def _on_both_sides(
    databases: Databases, legacy: Table, billing: Table, key: str
) -> list[dict[str, Any]]:
    """The record as the monolith holds it, then as billing does."""
    return [
        await _row(databases.monolith, legacy, key),
        await _row(databases.billing, billing, key),
    ]


async def _subscribed_on_both_sides(
    launch: Launch,
) -> tuple[Customer, dict[str, Any]]:
    """A customer subscribed at the monolith, copied to billing by the backfill: the
    subscription and its invoice at version 1 on both sides."""
    async with launch(events=True) as sides:
        customer = await sign_up(sides.monolith, "contested")
        created = await subscribe(sides.monolith, customer, "pro")
        await backfill(sides.billing)
    return customer, created


async def test_the_same_version_changed_on_both_sides_resolves_to_the_monolith_s_change(
    launch: Launch, databases: Databases
) -> None:
    customer, created = await _subscribed_on_both_sides(launch)
    subscription_id = created["subscription"]["id"]
    async with launch(events=True) as sides:  # the sync is stopped: neither hears the other
        await cancel(sides.monolith, customer, subscription_id)
        await cancel(sides.billing, customer, subscription_id)
    legacy, billing = await _on_both_sides(
        databases, LEGACY_SUBSCRIPTIONS, billing_subscriptions, subscription_id
    )
    assert (legacy["version"], billing["version"]) == (2, 2)
    assert legacy["cancelled_at"] != billing["cancelled_at"]

    async with launch(events=True, legacy_sync=True, acl=True) as sides:
        await in_sync(sides)

    for winner in await _on_both_sides(
        databases, LEGACY_SUBSCRIPTIONS, billing_subscriptions, subscription_id
    ):
        assert (winner["version"], winner["origin"]) == (2, "legacy-monolith")
        assert winner["cancelled_at"] == legacy["cancelled_at"]


async def test_the_side_that_changed_a_record_more_often_wins_it(
    launch: Launch, databases: Databases
) -> None:
    customer, created = await _subscribed_on_both_sides(launch)
    subscription_id, invoice_id = created["subscription"]["id"], created["invoice"]["id"]
    async with launch(events=True) as sides:  # the sync is stopped: neither hears the other
        paid = await pay(sides.billing, customer, invoice_id)  # claimed, then paid: v3
        assert paid.status_code == 201, paid.text
        await cancel(sides.monolith, customer, subscription_id)  # voids the invoice: v2

    async with launch(events=True, legacy_sync=True, acl=True) as sides:
        await in_sync(sides)

    for invoice in await _on_both_sides(databases, LEGACY_INVOICES, billing_invoices, invoice_id):
        assert (invoice["status"], invoice["version"], invoice["origin"]) == ("paid", 3, "billing")
    for subscription in await _on_both_sides(
        databases, LEGACY_SUBSCRIPTIONS, billing_subscriptions, subscription_id
    ):
        assert (subscription["status"], subscription["version"]) == ("cancelled", 2)
        assert subscription["origin"] == "legacy-monolith"


async def test_a_decline_at_the_monolith_stops_a_payment_of_the_same_attempt_at_billing(
    launch: Launch, databases: Databases
) -> None:
    customer, created = await _subscribed_on_both_sides(launch)
    invoice_id = created["invoice"]["id"]
    async with launch(events=True) as sides:  # the sync is stopped: neither hears the other
        declined = await pay(sides.monolith, customer, invoice_id, DECLINED_CARD)  # v3: open
        # Billing has not heard of the decline: it asks the provider under the same attempt
        # with another card, which the provider refuses; nothing is charged, billing waits.
        paid = await pay(sides.billing, customer, invoice_id)  # v2: processing
    assert declined.status_code == 402, declined.text
    assert_problem(paid, 409, "payment-in-progress")

    async with launch(events=True, legacy_sync=True, acl=True) as sides:
        await in_sync(sides)

    for invoice in await _on_both_sides(databases, LEGACY_INVOICES, billing_invoices, invoice_id):
        assert (invoice["status"], invoice["version"], invoice["origin"]) == (
            "open",
            3,
            "legacy-monolith",
        )
        assert invoice["paid_at"] is None  # not only the status: the whole unpaid invoice
