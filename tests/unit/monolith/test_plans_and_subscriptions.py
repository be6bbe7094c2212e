"""The plan catalogue, subscribing and cancelling."""

from __future__ import annotations

import httpx
import pytest
from legacy_monolith.notifications.mailer import RecordingMailer

from tests.support.monolith_api import Subscriber, assert_problem, pay, sign_up, subscribe
from tests.unit.monolith.fakes import FakePaymentProvider


async def test_plans_are_listed_cheapest_first(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/billing/plans")

    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 20, 0)
    assert [(p["id"], p["price_cents"], p["currency"]) for p in page["items"]] == [
        ("starter", 900, "eur"),
        ("pro", 2900, "eur"),
        ("business", 9900, "eur"),
    ]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("limit=2", ["starter", "pro"]),
        ("limit=2&offset=2", ["business"]),
        ("offset=3", []),
    ],
)
async def test_plans_are_paginated(client: httpx.AsyncClient, query: str, ids: list[str]) -> None:
    response = await client.get(f"/api/billing/plans?{query}")

    assert response.status_code == 200
    assert [plan["id"] for plan in response.json()["items"]] == ids
    assert response.json()["total"] == 3


@pytest.mark.parametrize(
    ("query", "pointer"),
    [("limit=0", "query:/limit"), ("limit=101", "query:/limit"), ("offset=-1", "query:/offset")],
)
async def test_a_page_out_of_range_is_a_problem(
    client: httpx.AsyncClient, query: str, pointer: str
) -> None:
    response = await client.get(f"/api/billing/plans?{query}")

    problem = assert_problem(response, 422, "validation-failed")
    assert [error["pointer"] for error in problem["errors"]] == [pointer]


async def test_subscribing_issues_the_first_invoice_and_mails_it(
    client: httpx.AsyncClient, mailer: RecordingMailer
) -> None:
    customer = await sign_up(client)

    response = await client.post(
        "/api/billing/subscriptions", json={"plan_id": "pro"}, headers=customer.auth
    )

    assert response.status_code == 201
    subscription, invoice = response.json()["subscription"], response.json()["invoice"]
    assert (subscription["plan_id"], subscription["status"]) == ("pro", "active")
    assert subscription["cancelled_at"] is None
    assert invoice["subscription_id"] == subscription["id"]
    assert (invoice["status"], invoice["amount_cents"], invoice["currency"]) == (
        "open",
        2900,
        "eur",
    )
    assert invoice["amount_refunded_cents"] == 0
    assert invoice["paid_at"] is None
    assert (invoice["period_start"], invoice["period_end"]) == (
        subscription["current_period_start"],
        subscription["current_period_end"],
    )
    assert mailer.sent[-1].to == customer.email
    assert mailer.sent[-1].subject == "Invoice for Pro: 29.00 EUR"
    assert invoice["id"] in mailer.sent[-1].body
    listed = await client.get("/api/billing/invoices", headers=customer.auth)
    assert [i["id"] for i in listed.json()["items"]] == [invoice["id"]]
    notifications = await client.get("/api/notifications", headers=customer.auth)
    assert notifications.json()["items"][0]["kind"] == "invoice_issued"


async def test_subscribing_again_while_subscribed_is_a_conflict(
    client: httpx.AsyncClient, subscriber: Subscriber
) -> None:
    response = await client.post(
        "/api/billing/subscriptions", json={"plan_id": "business"}, headers=subscriber.customer.auth
    )

    problem = assert_problem(response, 409, "already-subscribed")
    assert problem["subscription_id"] == subscriber.subscription_id
    invoices = await client.get("/api/billing/invoices", headers=subscriber.customer.auth)
    assert invoices.json()["total"] == 1


async def test_subscribing_to_an_unknown_plan_is_a_problem(client: httpx.AsyncClient) -> None:
    customer = await sign_up(client)

    response = await client.post(
        "/api/billing/subscriptions", json={"plan_id": "platinum"}, headers=customer.auth
    )

    problem = assert_problem(response, 422, "unknown-plan")
    assert [error["pointer"] for error in problem["errors"]] == ["/plan_id"]
    subscriptions = await client.get("/api/billing/subscriptions", headers=customer.auth)
    assert subscriptions.json()["total"] == 0


async def test_cancelling_voids_the_open_invoice_which_then_cannot_be_paid(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    customer = subscriber.customer

    cancelled = await client.post(
        f"/api/billing/subscriptions/{subscriber.subscription_id}/cancel", headers=customer.auth
    )

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_at"] is not None
    invoice = await client.get(
        f"/api/billing/invoices/{subscriber.invoice_id}", headers=customer.auth
    )
    assert invoice.json()["status"] == "void"
    assert_problem(await pay(client, customer, subscriber.invoice_id), 409, "invoice-not-payable")
    assert payments.charges == []


async def test_a_cancelled_subscription_cannot_be_cancelled_again(
    client: httpx.AsyncClient, subscriber: Subscriber
) -> None:
    cancel = f"/api/billing/subscriptions/{subscriber.subscription_id}/cancel"
    await client.post(cancel, headers=subscriber.customer.auth)

    response = await client.post(cancel, headers=subscriber.customer.auth)

    assert_problem(response, 409, "subscription-not-active")


async def test_after_cancelling_a_customer_may_subscribe_again(
    client: httpx.AsyncClient, subscriber: Subscriber
) -> None:
    customer, first = subscriber.customer, subscriber.subscription_id
    await client.post(f"/api/billing/subscriptions/{first}/cancel", headers=customer.auth)

    second = (await subscribe(client, customer, "business"))["subscription"]

    listed = await client.get("/api/billing/subscriptions", headers=customer.auth)
    assert [(s["id"], s["plan_id"], s["status"]) for s in listed.json()["items"]] == [
        (second["id"], "business", "active"),
        (first, "pro", "cancelled"),
    ]


async def test_another_customers_billing_is_not_found(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    invoice_id, subscription_id = subscriber.invoice_id, subscriber.subscription_id
    stranger = await sign_up(client, "stranger")

    responses = [
        await client.get(f"/api/billing/invoices/{invoice_id}", headers=stranger.auth),
        await pay(client, stranger, invoice_id),
        await client.post(
            f"/api/billing/invoices/{invoice_id}/refund", json={}, headers=stranger.auth
        ),
        await client.get(f"/api/billing/subscriptions/{subscription_id}", headers=stranger.auth),
        await client.post(
            f"/api/billing/subscriptions/{subscription_id}/cancel", headers=stranger.auth
        ),
    ]

    for response in responses:
        assert_problem(response, 404, "not-found")
    invoices = await client.get("/api/billing/invoices", headers=stranger.auth)
    assert invoices.json()["total"] == 0
    assert payments.charges == []
    owners_invoice = await client.get(
        f"/api/billing/invoices/{invoice_id}", headers=subscriber.customer.auth
    )
    assert owners_invoice.json()["status"] == "open"
