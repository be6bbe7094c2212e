"""The monolith's billing API, answered by the billing service from its own PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from billing_service.adapters.orm import metadata, outbox
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence.migrations import schema_differences

from tests.support.monolith_api import (
    DECLINED_CARD,
    HANGING_CARD,
    Customer,
    assert_problem,
    new_key,
    pay,
    refund,
    subscribe,
)

pytestmark = pytest.mark.integration

PAGE_KEYS = {"items", "total", "limit", "offset"}


async def _get(client: httpx.AsyncClient, customer: Customer, path: str) -> Any:
    response = await client.get(f"/api/billing{path}", headers=customer.auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_plan_catalogue_is_public_and_cheapest_first(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/billing/plans", params={"limit": 2})

    assert response.status_code == 200
    page = response.json()
    assert page == {
        "items": [
            {
                "id": "starter",
                "name": "Starter",
                "price_cents": 900,
                "currency": "eur",
                "interval": "month",
            },
            {
                "id": "pro",
                "name": "Pro",
                "price_cents": 2900,
                "currency": "eur",
                "interval": "month",
            },
        ],
        "total": 3,
        "limit": 2,
        "offset": 0,
    }


async def test_a_customer_subscribes_pays_refunds_and_cancels(
    client: httpx.AsyncClient, customer: Customer, payment_simulator: httpx.AsyncClient
) -> None:
    created = await subscribe(client, customer, "pro")
    subscription, invoice = created["subscription"], created["invoice"]
    assert set(subscription) == {
        "id", "plan_id", "status", "current_period_start", "current_period_end", "created_at",
        "cancelled_at",
    }  # fmt: skip
    assert (subscription["status"], subscription["cancelled_at"]) == ("active", None)
    assert (invoice["amount_cents"], invoice["currency"], invoice["status"]) == (
        2900,
        "eur",
        "open",
    )

    paid = await pay(client, customer, invoice["id"])
    assert paid.status_code == 201, paid.text
    payment = paid.json()["payment"]
    assert set(payment) == {
        "id", "invoice_id", "status", "amount_cents", "currency", "card_last4",
        "provider_charge_id", "created_at",
    }  # fmt: skip
    assert (payment["status"], payment["card_last4"]) == ("succeeded", "4242")
    charge = (await payment_simulator.get(f"/v1/charges/{payment['provider_charge_id']}")).json()
    assert (charge["amount"], charge["status"]) == (2900, "succeeded")

    partly = await refund(client, customer, invoice["id"], amount_cents=900)
    assert partly.status_code == 201, partly.text
    assert partly.json()["invoice"]["status"] == "partially_refunded"
    assert set(partly.json()["refund"]) == {
        "id", "invoice_id", "amount_cents", "currency", "reason", "created_at",
    }  # fmt: skip
    rest = await refund(client, customer, invoice["id"])
    assert (rest.json()["refund"]["amount_cents"], rest.json()["invoice"]["status"]) == (
        2000,
        "refunded",
    )

    cancelled = await client.post(
        f"/api/billing/subscriptions/{subscription['id']}/cancel", headers=customer.auth
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    invoices = await _get(client, customer, "/invoices")
    assert set(invoices) == PAGE_KEYS
    assert [(i["id"], i["status"]) for i in invoices["items"]] == [(invoice["id"], "refunded")]
    assert await _get(client, customer, f"/subscriptions/{subscription['id']}") == cancelled.json()


async def test_cancelling_voids_the_open_invoice(
    client: httpx.AsyncClient, customer: Customer
) -> None:
    created = await subscribe(client, customer, "starter")

    await client.post(
        f"/api/billing/subscriptions/{created['subscription']['id']}/cancel", headers=customer.auth
    )

    invoice = await _get(client, customer, f"/invoices/{created['invoice']['id']}")
    assert invoice["status"] == "void"
    unpayable = await pay(client, customer, invoice["id"])
    assert_problem(unpayable, 409, "invoice-not-payable")


async def test_paying_again_with_the_same_key_replays_and_the_provider_charged_once(
    client: httpx.AsyncClient, customer: Customer, payment_simulator: httpx.AsyncClient
) -> None:
    invoice_id = (await subscribe(client, customer))["invoice"]["id"]
    key = new_key()

    first = await pay(client, customer, invoice_id, key=key)
    again = await pay(client, customer, invoice_id, key=key)
    other_key = await pay(client, customer, invoice_id)

    assert (first.status_code, again.status_code) == (201, 201)
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert_problem(other_key, 409, "invoice-already-paid")
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    assert [c["id"] for c in charges["items"]] == [first.json()["payment"]["provider_charge_id"]]


async def test_a_declined_card_answers_402_and_the_invoice_stays_payable(
    client: httpx.AsyncClient, customer: Customer
) -> None:
    invoice_id = (await subscribe(client, customer))["invoice"]["id"]

    declined = await pay(client, customer, invoice_id, card_number=DECLINED_CARD)

    problem = assert_problem(declined, 402, "card-declined")
    assert (problem["invoice_id"], problem["decline_code"]) == (invoice_id, "generic_decline")
    assert (await _get(client, customer, f"/invoices/{invoice_id}"))["status"] == "open"
    assert (await pay(client, customer, invoice_id)).status_code == 201


async def test_a_provider_that_does_not_answer_is_a_504_and_nothing_is_charged(
    client: httpx.AsyncClient, customer: Customer, payment_simulator: httpx.AsyncClient
) -> None:
    invoice_id = (await subscribe(client, customer))["invoice"]["id"]

    timed_out = await pay(client, customer, invoice_id, card_number=HANGING_CARD)

    problem = assert_problem(timed_out, 504, "payment-provider-timeout")
    assert problem["invoice_id"] == invoice_id
    assert (await _get(client, customer, f"/invoices/{invoice_id}"))["status"] == "open"
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    assert [c for c in charges["items"] if c["status"] == "succeeded"] == []


async def test_every_change_is_recorded_in_billing_s_outbox_as_its_contract_event(
    client: httpx.AsyncClient, customer: Customer, engine: AsyncEngine
) -> None:
    created = await subscribe(client, customer)
    await pay(client, customer, created["invoice"]["id"], card_number=DECLINED_CARD)
    await pay(client, customer, created["invoice"]["id"])
    await refund(client, customer, created["invoice"]["id"], amount_cents=100)
    await client.post(
        f"/api/billing/subscriptions/{created['subscription']['id']}/cancel", headers=customer.auth
    )

    async with engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.position))).all()
    envelopes = [json.loads(row.payload) for row in rows]
    assert [e["type"].removeprefix("dev.strangler-fig.") for e in envelopes] == [
        "billing.subscription-started.v1",
        "billing.invoice-issued.v1",
        "billing.payment-failed.v1",
        "billing.payment-succeeded.v1",
        "billing.refund-issued.v1",
        "billing.subscription-cancelled.v1",
    ]
    assert {e["source"] for e in envelopes} == {"/billing"}
    assert {row.key for row in rows} == {customer.id}
    assert {e["data"]["user_id"] for e in envelopes} == {customer.id}
    assert {e["data"]["subscription_id"] for e in envelopes} == {created["subscription"]["id"]}


async def test_the_migrations_create_exactly_the_tables_the_service_maps(
    engine: AsyncEngine,
) -> None:
    assert await schema_differences(engine, metadata) == []
