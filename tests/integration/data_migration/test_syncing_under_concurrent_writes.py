"""Two-way sync while customers write on both sides at once, as in a canary: some customers
are served by the monolith, others by the billing service, a few by both in overlapping
moments. Once both sync consumers have caught up with every change either side published,
the reconciliation (the drift comparison `strangler migrate billing verify` runs) finds
nothing, and each record two sides changed at once holds the winner the documented rule
names (services/billing/README.md, "Conflicts: the rule"): the higher version, else the
monolith.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts.records import BILLING_SYNCED_EVENTS
from strangler_eventing import outbox_table
from strangler_migration import ExportedRecord, RecordsFound, SyncStatus

from tests.integration.data_migration.conftest import (
    Databases,
    Launch,
    Sides,
    cancel,
    drift,
)
from tests.support.monolith_api import (
    DECLINED_CARD,
    GOOD_CARD,
    Customer,
    assert_problem,
    pay,
    refund,
    sign_up,
    subscribe,
)
from tests.support.operator import OPERATOR_HEADERS

pytestmark = pytest.mark.integration

CAUGHT_UP_WITHIN_SECONDS = 90.0
KNOWN_WITHIN_SECONDS = 60.0
AGREE_AFTER_CATCHING_UP_SECONDS = 10.0
POLL_SECONDS = 0.3
SYNCED_TYPES = tuple(event.cloud_event_type() for event in BILLING_SYNCED_EVENTS)
OUTBOX = outbox_table(MetaData())

Script = Callable[[httpx.AsyncClient, Customer], Awaitable[None]]


async def _wait_for(
    observe: Callable[[], Awaitable[tuple[bool, str]]], what: str, within: float
) -> float:
    """Poll ``observe()`` (done?, what it saw) until done; its last sighting in the failure."""
    began = time.monotonic()
    done, seen = await observe()
    while not done:
        waited = time.monotonic() - began
        if waited > within:
            raise AssertionError(f"{what}: not after {waited:.1f} s (limit {within:g} s); {seen}")
        await asyncio.sleep(POLL_SECONDS)
        done, seen = await observe()
    return time.monotonic() - began


async def _records(
    client: httpx.AsyncClient, entity: str, ids: list[str]
) -> dict[str, ExportedRecord]:
    answer = await client.post(
        f"/internal/billing/records/{entity}", json={"ids": ids}, headers=OPERATOR_HEADERS
    )
    assert answer.status_code == 200, answer.text
    return {r.id: r for r in RecordsFound.model_validate_json(answer.content).records}


def _ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


# What customers do on the side that serves them.


async def _pays_and_is_partly_refunded(side: httpx.AsyncClient, customer: Customer) -> None:
    created = await subscribe(side, customer, "pro")
    _ok(await pay(side, customer, created["invoice"]["id"]), 201)
    _ok(await refund(side, customer, created["invoice"]["id"], 900), 201)


async def _is_declined_then_pays_and_is_refunded(
    side: httpx.AsyncClient, customer: Customer
) -> None:
    invoice_id = (await subscribe(side, customer, "starter"))["invoice"]["id"]
    assert_problem(await pay(side, customer, invoice_id, DECLINED_CARD), 402, "card-declined")
    _ok(await pay(side, customer, invoice_id), 201)
    _ok(await refund(side, customer, invoice_id), 201)


async def _cancels_before_paying(side: httpx.AsyncClient, customer: Customer) -> None:
    created = await subscribe(side, customer, "business")
    await cancel(side, customer, created["subscription"]["id"])


async def _pays_cancels_and_subscribes_again(side: httpx.AsyncClient, customer: Customer) -> None:
    first = await subscribe(side, customer, "starter")
    _ok(await pay(side, customer, first["invoice"]["id"]), 201)
    await cancel(side, customer, first["subscription"]["id"])
    second = await subscribe(side, customer, "pro")
    _ok(await pay(side, customer, second["invoice"]["id"]), 201)


def _checks_out(card: str, outcome: str) -> Script:
    async def script(billing: httpx.AsyncClient, customer: Customer) -> None:
        started = await billing.post(
            "/api/billing/checkout",
            json={"plan_id": "pro", "card_number": card},
            headers=customer.auth | {"Idempotency-Key": f"checkout-{customer.id}"},
        )
        _ok(started, 202)
        location = started.headers["location"]

        async def ended() -> tuple[bool, str]:
            status = _ok(await billing.get(location, headers=customer.auth))["status"]
            return status in ("completed", "compensated", "compensation_failed"), status

        await _wait_for(ended, f"the checkout of {customer.email} ends", KNOWN_WITHIN_SECONDS)
        assert _ok(await billing.get(location, headers=customer.auth))["status"] == outcome

    return script


MONOLITH_SCRIPTS: tuple[Script, ...] = (
    _pays_and_is_partly_refunded,
    _is_declined_then_pays_and_is_refunded,
    _cancels_before_paying,
    _pays_cancels_and_subscribes_again,
    _pays_and_is_partly_refunded,
)
BILLING_SCRIPTS: tuple[Script, ...] = (
    _pays_and_is_partly_refunded,
    _is_declined_then_pays_and_is_refunded,
    _cancels_before_paying,
    _pays_cancels_and_subscribes_again,
    _checks_out(GOOD_CARD, "completed"),
    _checks_out(DECLINED_CARD, "compensated"),
)


# Customers served by both sides, a moment apart.


@dataclass
class Contest:
    """What one contested customer's requests were answered, and the records they touched."""

    answers: dict[str, httpx.Response]
    subscription_id: str
    invoice_id: str


async def _held_by(side: httpx.AsyncClient, entity: str, key: str, status: str) -> None:
    async def there() -> tuple[bool, str]:
        found = (await _records(side, entity, [key])).get(key)
        seen = "nothing" if found is None else f"{found.data['status']} v{found.version}"
        return found is not None and found.data["status"] == status, seen

    await _wait_for(there, f"{entity} {key} reaches the other side", KNOWN_WITHIN_SECONDS)


async def _cancelled_at_the_monolith_while_paid_at_billing(
    sides: Sides, customer: Customer
) -> Contest:
    created = await subscribe(sides.monolith, customer, "pro")
    subscription_id, invoice_id = created["subscription"]["id"], created["invoice"]["id"]
    await _held_by(sides.billing, "invoices", invoice_id, "open")
    cancelled, paid = await asyncio.gather(
        sides.monolith.post(
            f"/api/billing/subscriptions/{subscription_id}/cancel", headers=customer.auth
        ),
        pay(sides.billing, customer, invoice_id),
    )
    return Contest({"cancel": cancelled, "pay": paid}, subscription_id, invoice_id)


async def _refunded_on_both_sides_at_once(sides: Sides, customer: Customer) -> Contest:
    created = await subscribe(sides.monolith, customer, "pro")
    subscription_id, invoice_id = created["subscription"]["id"], created["invoice"]["id"]
    _ok(await pay(sides.monolith, customer, invoice_id), 201)
    await _held_by(sides.billing, "invoices", invoice_id, "paid")
    at_monolith, at_billing = await asyncio.gather(
        refund(sides.monolith, customer, invoice_id, 500),
        refund(sides.billing, customer, invoice_id, 700),
    )
    return Contest({"monolith": at_monolith, "billing": at_billing}, subscription_id, invoice_id)


async def _cancelled_on_both_sides_at_once(sides: Sides, customer: Customer) -> Contest:
    created = await subscribe(sides.billing, customer, "business")
    subscription_id, invoice_id = created["subscription"]["id"], created["invoice"]["id"]
    await _held_by(sides.monolith, "subscriptions", subscription_id, "active")
    path = f"/api/billing/subscriptions/{subscription_id}/cancel"
    at_monolith, at_billing = await asyncio.gather(
        sides.monolith.post(path, headers=customer.auth),
        sides.billing.post(path, headers=customer.auth),
    )
    return Contest({"monolith": at_monolith, "billing": at_billing}, subscription_id, invoice_id)


# Waiting for both consumers.


async def _synced_events_in_outbox(engine: AsyncEngine) -> tuple[int, int]:
    """How many changes one side recorded to publish, and how many of them are not yet."""
    recorded = select(func.count()).where(OUTBOX.c.event_type.in_(SYNCED_TYPES))
    unpublished = recorded.where(OUTBOX.c.published_at.is_(None))
    async with engine.connect() as connection:
        return int(await connection.scalar(recorded) or 0), int(
            await connection.scalar(unpublished) or 0
        )


async def _sync_status(side: httpx.AsyncClient) -> SyncStatus:
    answer = await side.get("/internal/billing/sync", headers=OPERATOR_HEADERS)
    assert answer.status_code == 200, answer.text
    return SyncStatus.model_validate_json(answer.content)


def _caught_up(sides: Sides, databases: Databases) -> Callable[[], Awaitable[tuple[bool, str]]]:
    """Every change either side published, read by both consumers: applied by the other
    side's, skipped as its own by the side's own; nothing left to publish, no lag."""

    async def observe() -> tuple[bool, str]:
        legacy_made, legacy_waiting = await _synced_events_in_outbox(databases.monolith)
        billing_made, billing_waiting = await _synced_events_in_outbox(databases.billing)
        at_monolith = await _sync_status(sides.monolith)
        at_billing = await _sync_status(sides.billing)
        done = (
            legacy_waiting == billing_waiting == 0
            and (at_billing.applied, at_billing.skipped_own) == (legacy_made, billing_made)
            and (at_monolith.applied, at_monolith.skipped_own) == (billing_made, legacy_made)
            and at_billing.lag == at_monolith.lag == 0
        )
        seen = (
            f"changes made by the monolith {legacy_made} ({legacy_waiting} unpublished), "
            f"by billing {billing_made} ({billing_waiting} unpublished); billing's consumer "
            f"applied {at_billing.applied}, skipped {at_billing.skipped_own}, lag "
            f"{at_billing.lag}; the monolith's applied {at_monolith.applied}, skipped "
            f"{at_monolith.skipped_own}, lag {at_monolith.lag}"
        )
        return done, seen

    return observe


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


async def _on_both_sides(sides: Sides, entity: str, key: str) -> list[ExportedRecord]:
    """The record as the monolith holds it, then as billing does."""
    return [(await _records(side, entity, [key]))[key] for side in (sides.monolith, sides.billing)]


async def _signed_up(sides: Sides, how_many: int, who: str) -> list[Customer]:
    return list(await asyncio.gather(*(sign_up(sides.monolith, who) for _ in range(how_many))))


async def test_concurrent_writes_on_both_sides_end_with_both_sides_holding_the_same_records(
    launch: Launch, databases: Databases
) -> None:
    async with launch(events=True, legacy_sync=True, acl=True) as sides:
        at_monolith = await _signed_up(sides, len(MONOLITH_SCRIPTS), "at-monolith")
        at_billing = await _signed_up(sides, len(BILLING_SCRIPTS), "at-billing")
        contested = await _signed_up(sides, 3, "contested")
        ids = [c.id for c in (*at_monolith, *at_billing, *contested)]

        async def billing_knows_everyone() -> tuple[bool, str]:
            known = len(await _records(sides.billing, "customers", ids))
            return known == len(ids), f"{known} of {len(ids)} customers known to billing"

        await _wait_for(billing_knows_everyone, "registrations reach billing", KNOWN_WITHIN_SECONDS)

        began = time.monotonic()
        paid_or_void, refunded_twice, cancelled_twice, *_ = await asyncio.gather(
            _cancelled_at_the_monolith_while_paid_at_billing(sides, contested[0]),
            _refunded_on_both_sides_at_once(sides, contested[1]),
            _cancelled_on_both_sides_at_once(sides, contested[2]),
            *(run(sides.monolith, c) for run, c in zip(MONOLITH_SCRIPTS, at_monolith, strict=True)),
            *(run(sides.billing, c) for run, c in zip(BILLING_SCRIPTS, at_billing, strict=True)),
        )
        traffic_seconds = time.monotonic() - began
        waited = await _wait_for(
            _caught_up(sides, databases),
            f"both consumers catch up after {traffic_seconds:.1f} s of traffic",
            CAUGHT_UP_WITHIN_SECONDS,
        )

        async def no_drift() -> tuple[bool, str]:
            drifted = await drift(sides)
            return drifted == [], "; ".join(
                f"{d.entity}: only at the monolith {d.only_left}, only at billing "
                f"{d.only_right}, differing {d.differing}"
                for d in drifted
            )

        await _wait_for(
            no_drift,
            f"zero drift once caught up ({waited:.1f} s after the traffic)",
            AGREE_AFTER_CATCHING_UP_SECONDS,
        )

        # Paid at billing while the monolith cancelled: the payment's change of the invoice
        # (claimed, then paid: two versions) beats the monolith's void (one), if it got in.
        assert isinstance(paid_or_void, Contest)
        _ok(paid_or_void.answers["cancel"])
        paid = paid_or_void.answers["pay"]
        if paid.status_code != 201:
            assert_problem(paid, 409, "invoice-not-payable")
        for invoice in await _on_both_sides(sides, "invoices", paid_or_void.invoice_id):
            assert invoice.data["status"] == ("paid" if paid.status_code == 201 else "void")
        for subscription in await _on_both_sides(
            sides, "subscriptions", paid_or_void.subscription_id
        ):
            assert subscription.data["status"] == "cancelled"

        # Refunded on both sides: both refunds are kept on both sides; the invoice is the
        # monolith's when both changed the same version of it, else it counts both refunds.
        assert isinstance(refunded_twice, Contest)
        refund_ids = [_ok(a, 201)["refund"]["id"] for a in refunded_twice.answers.values()]
        for side in (sides.monolith, sides.billing):
            assert sorted(await _records(side, "refunds", refund_ids)) == sorted(refund_ids)
        legacy_invoice, billing_invoice = await _on_both_sides(
            sides, "invoices", refunded_twice.invoice_id
        )
        assert (legacy_invoice.version, legacy_invoice.origin) == (
            billing_invoice.version,
            billing_invoice.origin,
        )
        if legacy_invoice.version == 4:  # issued, claimed, paid: both refunds made the 4th
            assert legacy_invoice.origin == "legacy-monolith"
            assert legacy_invoice.data["amount_refunded_cents"] == 500
        else:  # one side refunded after the other's refund had reached it
            assert legacy_invoice.data["amount_refunded_cents"] == 1200

        # Cancelled on both sides: if both cancellations went through, the monolith's wins.
        assert isinstance(cancelled_twice, Contest)
        went_through = {
            side: answer.json()
            for side, answer in cancelled_twice.answers.items()
            if answer.status_code == 200
        }
        for side, answer in cancelled_twice.answers.items():
            if side not in went_through:
                assert_problem(answer, 409, "subscription-not-active")
        winner = went_through["monolith"] if "monolith" in went_through else went_through["billing"]
        for subscription in await _on_both_sides(
            sides, "subscriptions", cancelled_twice.subscription_id
        ):
            assert subscription.data["status"] == "cancelled"
            assert _instant(subscription.data["cancelled_at"]) == _instant(winner["cancelled_at"])
