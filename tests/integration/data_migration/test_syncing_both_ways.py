"""Continuous two-way sync while both sides serve billing: the monolith's changes reach the
billing service by its events, the billing service's reach the legacy tables through the
monolith's anti-corruption layer, and no change comes back to the side that made it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from legacy_monolith.models import Subscription
from sqlalchemy import select

from tests.integration.data_migration.conftest import (
    Databases,
    Launch,
    backfill,
    billing_events_in_outbox,
    in_sync,
    renew_every_subscription,
    write_history,
)
from tests.support.monolith_api import DECLINED_CARD, GOOD_CARD, Customer, sign_up
from tests.support.operator import OPERATOR_HEADERS
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

BILLING_EVENTS_OF_A_HISTORY = 12
WAIT_SECONDS = 60.0


async def _sync_status(client: httpx.AsyncClient) -> dict[str, object]:
    answer = await client.get("/internal/billing/sync", headers=OPERATOR_HEADERS)
    assert answer.status_code == 200, answer.text
    status: dict[str, object] = answer.json()
    return status


async def test_a_legacy_write_after_the_backfill_reaches_billing_by_events(
    launch: Launch,
) -> None:
    async with launch(events=True, legacy_sync=True) as sides:
        await write_history(sides.monolith)
        await backfill(sides.billing)

        await write_history(sides.monolith)  # new customers, after the backfill
        renewed = await renew_every_subscription(sides, datetime.now(UTC) + timedelta(days=40))

        assert renewed == 4  # alice's and carol's subscriptions, in both histories
        await in_sync(sides)
        status = await _sync_status(sides.billing)
        assert status["running"] is True
        assert status["group"] == "billing.legacy-sync"


async def test_a_billing_write_reaches_the_legacy_tables_through_the_acl(
    launch: Launch, databases: Databases
) -> None:
    async with launch(events=True, acl=True) as sides:
        history = await write_history(sides.monolith, served_by=sides.billing)

        await in_sync(sides)
        alice = next(c for email, c in history.customers.items() if email.startswith("alice"))
        seen_by_legacy = await sides.monolith.get("/api/billing/subscriptions", headers=alice.auth)
        assert [s["id"] for s in seen_by_legacy.json()["items"]] == [
            history.subscriptions[alice.email]
        ]
        async with databases.monolith.connect() as connection:
            stamp = (
                await connection.execute(
                    Subscription.__table__.select().where(  # type: ignore[attr-defined]
                        Subscription.id == history.subscriptions[alice.email]
                    )
                )
            ).one()
        assert (stamp.origin, stamp.version) == ("billing", 1)
        assert (await _sync_status(sides.monolith))["group"] == "legacy-monolith.billing-sync"


async def test_a_change_applied_from_the_other_side_is_not_published_again(
    launch: Launch, databases: Databases
) -> None:
    async with launch(events=True, legacy_sync=True, acl=True) as sides:
        await write_history(sides.monolith)
        await in_sync(sides)
        await write_history(sides.monolith, served_by=sides.billing)
        await in_sync(sides)

        async def each_side_skipped_its_own_events() -> bool:
            skipped = [
                (await _sync_status(s))["skipped_own"] for s in (sides.monolith, sides.billing)
            ]
            return skipped == [BILLING_EVENTS_OF_A_HISTORY] * 2

        await eventually(
            each_side_skipped_its_own_events, "each side read back its own events", WAIT_SECONDS
        )
        assert await billing_events_in_outbox(databases.monolith) == BILLING_EVENTS_OF_A_HISTORY
        assert await billing_events_in_outbox(databases.billing) == BILLING_EVENTS_OF_A_HISTORY
        for side in (sides.monolith, sides.billing):
            assert (await _sync_status(side))["applied"] == BILLING_EVENTS_OF_A_HISTORY


async def _checked_out(billing: httpx.AsyncClient, customer: Customer, card: str) -> dict[str, Any]:
    """A checkout at billing (once it knows the customer), followed until it ends."""
    started: list[httpx.Response] = []

    async def accepted() -> bool:
        answer = await billing.post(
            "/api/billing/checkout",
            json={"plan_id": "pro", "card_number": card},
            headers=customer.auth | {"Idempotency-Key": f"checkout-{customer.id}"},
        )
        started.append(answer)
        return answer.status_code == 202

    await eventually(accepted, "billing accepts the checkout", WAIT_SECONDS, every=0.2)
    location = started[-1].headers["location"]
    ended: list[dict[str, Any]] = []

    async def finished() -> bool:
        ended.append((await billing.get(location, headers=customer.auth)).json())
        return ended[-1]["status"] in ("completed", "compensated")

    await eventually(finished, "the checkout ends", WAIT_SECONDS, every=0.2)
    return ended[-1]


@pytest.mark.parametrize(
    ("card", "outcome", "subscription_status", "invoice_status"),
    [
        (GOOD_CARD, "completed", "active", "paid"),
        (DECLINED_CARD, "compensated", "cancelled", "void"),
    ],
    ids=["paid", "declined"],
)
async def test_a_checkout_at_billing_reaches_the_legacy_tables_as_it_ended(
    launch: Launch,
    databases: Databases,
    card: str,
    outcome: str,
    subscription_status: str,
    invoice_status: str,
) -> None:
    async with launch(events=True, acl=True) as sides:
        customer = await sign_up(sides.monolith, "checking-out")
        checkout = await _checked_out(sides.billing, customer, card)

        await in_sync(sides)
        seen_by_legacy = await sides.monolith.get(
            f"/api/billing/invoices/{checkout['invoice_id']}", headers=customer.auth
        )

    assert checkout["status"] == outcome
    async with databases.monolith.connect() as connection:
        status = await connection.scalar(
            select(Subscription.status).where(Subscription.id == checkout["subscription_id"])
        )
    assert status == subscription_status
    assert seen_by_legacy.json()["status"] == invoice_status
