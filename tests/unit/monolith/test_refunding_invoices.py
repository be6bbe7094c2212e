"""Refunding a paid invoice in full or in parts, never more than was paid."""

from __future__ import annotations

import httpx
from legacy_monolith.notifications.mailer import RecordingMailer

from tests.support.monolith_api import Subscriber, assert_problem, new_key, pay, refund
from tests.unit.monolith.fakes import FakePaymentProvider


async def _pay(client: httpx.AsyncClient, subscriber: Subscriber) -> str:
    """Pay the subscriber's 29.00 EUR invoice; answer the provider's charge id."""
    paid = await pay(client, subscriber.customer, subscriber.invoice_id)
    assert paid.status_code == 201, paid.text
    charge_id: str = paid.json()["payment"]["provider_charge_id"]
    return charge_id


async def test_a_full_refund_marks_the_invoice_refunded(
    client: httpx.AsyncClient,
    subscriber: Subscriber,
    payments: FakePaymentProvider,
    mailer: RecordingMailer,
) -> None:
    charge_id = await _pay(client, subscriber)

    response = await refund(client, subscriber.customer, subscriber.invoice_id)

    assert response.status_code == 201
    assert response.json()["refund"]["amount_cents"] == 2900
    invoice = response.json()["invoice"]
    assert (invoice["status"], invoice["amount_refunded_cents"]) == ("refunded", 2900)
    assert [r.receipt.amount_cents for r in payments.refunds_for(charge_id)] == [2900]
    assert mailer.sent[-1].subject == "Refund issued: 29.00 EUR"


async def test_partial_refunds_add_up_to_a_full_refund(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    charge_id = await _pay(client, subscriber)

    first = await refund(client, subscriber.customer, subscriber.invoice_id, amount_cents=1000)
    rest = await refund(client, subscriber.customer, subscriber.invoice_id, amount_cents=1900)

    assert (first.status_code, rest.status_code) == (201, 201)
    assert [
        (r.json()["invoice"]["status"], r.json()["invoice"]["amount_refunded_cents"])
        for r in (first, rest)
    ] == [("partially_refunded", 1000), ("refunded", 2900)]
    assert [r.receipt.amount_cents for r in payments.refunds_for(charge_id)] == [1000, 1900]


async def test_refunding_more_than_is_left_is_a_problem(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    charge_id = await _pay(client, subscriber)
    await refund(client, subscriber.customer, subscriber.invoice_id, amount_cents=2000)

    response = await refund(client, subscriber.customer, subscriber.invoice_id, amount_cents=1000)

    problem = assert_problem(response, 422, "refund-exceeds-payment")
    assert problem["remaining_cents"] == 900
    invoice = await client.get(
        f"/api/billing/invoices/{subscriber.invoice_id}", headers=subscriber.customer.auth
    )
    assert (invoice.json()["status"], invoice.json()["amount_refunded_cents"]) == (
        "partially_refunded",
        2000,
    )
    assert len(payments.refunds_for(charge_id)) == 1


async def test_a_refunded_invoice_cannot_be_refunded_again(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    charge_id = await _pay(client, subscriber)
    await refund(client, subscriber.customer, subscriber.invoice_id)

    response = await refund(client, subscriber.customer, subscriber.invoice_id, amount_cents=1)

    assert_problem(response, 409, "invoice-not-refundable")
    assert len(payments.refunds_for(charge_id)) == 1


async def test_an_unpaid_invoice_cannot_be_refunded(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    response = await refund(client, subscriber.customer, subscriber.invoice_id)

    assert_problem(response, 409, "invoice-not-refundable")
    assert payments.refunds == []


async def test_retrying_a_refund_with_its_key_refunds_once(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    charge_id = await _pay(client, subscriber)
    key = new_key()
    first = await refund(client, subscriber.customer, subscriber.invoice_id, 500, key)

    retried = await refund(client, subscriber.customer, subscriber.invoice_id, 500, key)

    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["refund"]["id"] == first.json()["refund"]["id"]
    assert retried.json()["invoice"]["amount_refunded_cents"] == 500
    assert len(payments.refunds_for(charge_id)) == 1
