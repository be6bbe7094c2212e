"""The billing cycle: every elapsed period of an active subscription is invoiced once."""

from __future__ import annotations

from datetime import datetime

import httpx
from legacy_monolith.billing.periods import next_period_end
from legacy_monolith.billing.service import issue_due_invoices
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime

from tests.support.monolith_api import Subscriber, sign_up_and_subscribe


async def _period_start(client: httpx.AsyncClient, subscriber: Subscriber) -> datetime:
    response = await client.get(
        f"/api/billing/subscriptions/{subscriber.subscription_id}",
        headers=subscriber.customer.auth,
    )
    return datetime.fromisoformat(response.json()["current_period_start"])


async def test_each_elapsed_period_is_invoiced_once_however_often_the_cycle_runs(
    client: httpx.AsyncClient, subscriber: Subscriber, runtime: Runtime, mailer: RecordingMailer
) -> None:
    first = await _period_start(client, subscriber)
    second = next_period_end(first)
    third = next_period_end(second)

    issued = await issue_due_invoices(runtime, as_of=third)
    issued_again = await issue_due_invoices(runtime, as_of=third)

    assert (issued, issued_again) == (2, 0)
    invoices = await client.get("/api/billing/invoices", headers=subscriber.customer.auth)
    periods = sorted(
        (datetime.fromisoformat(i["period_start"]), datetime.fromisoformat(i["period_end"]))
        for i in invoices.json()["items"]
    )
    assert periods == [(first, second), (second, third), (third, next_period_end(third))]
    assert {(i["status"], i["amount_cents"]) for i in invoices.json()["items"]} == {("open", 2900)}
    assert await _period_start(client, subscriber) == third
    assert [mail.subject for mail in mailer.sent] == ["Invoice for Pro: 29.00 EUR"] * 2


async def test_the_cycle_skips_cancelled_subscriptions(
    client: httpx.AsyncClient, subscriber: Subscriber, runtime: Runtime
) -> None:
    await client.post(
        f"/api/billing/subscriptions/{subscriber.subscription_id}/cancel",
        headers=subscriber.customer.auth,
    )
    active = await sign_up_and_subscribe(client, "active")

    issued = await issue_due_invoices(
        runtime, as_of=next_period_end(await _period_start(client, active))
    )

    assert issued == 1
    for customer, invoices in [(subscriber.customer, 1), (active.customer, 2)]:
        listed = await client.get("/api/billing/invoices", headers=customer.auth)
        assert listed.json()["total"] == invoices
