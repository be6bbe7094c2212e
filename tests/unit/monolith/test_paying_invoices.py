"""Paying an invoice by card: once, whatever the card does and however often it is retried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.database import utcnow
from legacy_monolith.models import Payment
from legacy_monolith.notifications.mailer import RecordingMailer
from legacy_monolith.runtime import Runtime
from sqlalchemy import select, update

from tests.support.monolith_api import (
    DECLINED_CARD,
    HANGING_CARD,
    Subscriber,
    assert_problem,
    new_key,
    pay,
    subscribe,
)
from tests.unit.monolith.fakes import FakePaymentProvider


async def _payment_statuses(app: FastAPI, invoice_id: str) -> list[str]:
    runtime: Runtime = app.root
    async with runtime.sessions() as session:
        payments = await session.scalars(select(Payment).where(Payment.invoice_id == invoice_id))
        return sorted(payment.status for payment in payments)


async def _invoice_status(
    client: httpx.AsyncClient, subscriber: Subscriber, invoice_id: str
) -> str:
    response = await client.get(
        f"/api/billing/invoices/{invoice_id}", headers=subscriber.customer.auth
    )
    status: str = response.json()["status"]
    return status


async def test_a_good_card_pays_the_invoice_and_is_charged_once(
    client: httpx.AsyncClient,
    subscriber: Subscriber,
    payments: FakePaymentProvider,
    mailer: RecordingMailer,
) -> None:
    invoice_id = subscriber.invoice_id

    response = await pay(client, subscriber.customer, invoice_id)

    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers
    payment, invoice = response.json()["payment"], response.json()["invoice"]
    assert (payment["status"], payment["amount_cents"], payment["card_last4"]) == (
        "succeeded",
        2900,
        "4242",
    )
    assert (invoice["id"], invoice["status"]) == (invoice_id, "paid")
    assert invoice["paid_at"] is not None
    assert await _invoice_status(client, subscriber, invoice_id) == "paid"
    [charged] = payments.charges_for(invoice_id)
    assert charged.charge.charge_id == payment["provider_charge_id"]
    assert (charged.charge.amount_cents, charged.charge.currency) == (2900, "eur")
    assert [mail.subject for mail in mailer.sent] == ["Payment received: 29.00 EUR"]


async def test_a_declined_card_leaves_the_invoice_open_for_another_card(
    app: FastAPI,
    client: httpx.AsyncClient,
    subscriber: Subscriber,
    payments: FakePaymentProvider,
    mailer: RecordingMailer,
) -> None:
    invoice_id = subscriber.invoice_id

    declined = await pay(client, subscriber.customer, invoice_id, DECLINED_CARD)

    problem = assert_problem(declined, 402, "card-declined")
    assert (problem["invoice_id"], problem["decline_code"]) == (invoice_id, "generic_decline")
    assert await _invoice_status(client, subscriber, invoice_id) == "open"
    assert [mail.subject for mail in mailer.sent] == [f"Payment failed for invoice {invoice_id}"]
    assert payments.charges == []

    paid = await pay(client, subscriber.customer, invoice_id)

    assert paid.status_code == 201
    assert paid.json()["invoice"]["status"] == "paid"
    assert len(payments.charges_for(invoice_id)) == 1
    assert await _payment_statuses(app, invoice_id) == ["failed", "succeeded"]


async def test_retrying_a_declined_payment_with_its_key_answers_the_same_decline(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    key = new_key()
    first = await pay(client, subscriber.customer, subscriber.invoice_id, DECLINED_CARD, key)

    retried = await pay(client, subscriber.customer, subscriber.invoice_id, DECLINED_CARD, key)

    assert_problem(retried, 402, "card-declined")
    assert retried.json()["payment_id"] == first.json()["payment_id"]
    assert payments.charges == []


async def test_a_card_that_hangs_times_out_and_leaves_the_invoice_open(
    app: FastAPI, client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    invoice_id = subscriber.invoice_id

    response = await pay(client, subscriber.customer, invoice_id, HANGING_CARD)

    problem = assert_problem(response, 504, "payment-provider-timeout")
    assert problem["invoice_id"] == invoice_id
    assert await _invoice_status(client, subscriber, invoice_id) == "open"
    assert await _payment_statuses(app, invoice_id) == ["timed_out"]
    assert payments.charges == []


async def test_a_timed_out_payment_retried_with_its_key_resumes_and_charges_once(
    app: FastAPI, client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    invoice_id, key = subscriber.invoice_id, new_key()
    timed_out = await pay(client, subscriber.customer, invoice_id, HANGING_CARD, key)

    resumed = await pay(client, subscriber.customer, invoice_id, key=key)

    assert resumed.status_code == 201
    assert resumed.json()["payment"]["id"] == timed_out.json()["payment_id"]
    assert await _payment_statuses(app, invoice_id) == ["succeeded"]
    assert len(payments.charges_for(invoice_id)) == 1


async def test_retrying_a_payment_with_its_key_replays_it_without_charging_again(
    client: httpx.AsyncClient,
    subscriber: Subscriber,
    payments: FakePaymentProvider,
    mailer: RecordingMailer,
) -> None:
    invoice_id, key = subscriber.invoice_id, new_key()
    first = await pay(client, subscriber.customer, invoice_id, key=key)

    retried = await pay(client, subscriber.customer, invoice_id, key=key)

    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["payment"] == first.json()["payment"]
    assert retried.json()["invoice"]["status"] == "paid"
    assert len(payments.charges_for(invoice_id)) == 1
    assert [mail.subject for mail in mailer.sent] == ["Payment received: 29.00 EUR"]


async def test_paying_a_paid_invoice_again_is_a_conflict(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    await pay(client, subscriber.customer, subscriber.invoice_id)

    response = await pay(client, subscriber.customer, subscriber.invoice_id, key=new_key())

    assert_problem(response, 409, "invoice-already-paid")
    assert len(payments.charges_for(subscriber.invoice_id)) == 1


async def test_a_key_that_paid_one_invoice_cannot_pay_another(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    customer, key = subscriber.customer, new_key()
    await pay(client, customer, subscriber.invoice_id, key=key)
    await client.post(
        f"/api/billing/subscriptions/{subscriber.subscription_id}/cancel", headers=customer.auth
    )
    second_invoice = (await subscribe(client, customer, "starter"))["invoice"]["id"]

    response = await pay(client, customer, second_invoice, key=key)

    assert_problem(response, 422, "idempotency-key-reused")
    assert await _invoice_status(client, subscriber, second_invoice) == "open"
    assert payments.charges_for(second_invoice) == []
    assert len(payments.charges) == 1


async def test_a_payment_without_an_idempotency_key_is_charged_once(
    client: httpx.AsyncClient, subscriber: Subscriber, payments: FakePaymentProvider
) -> None:
    response = await client.post(
        f"/api/billing/invoices/{subscriber.invoice_id}/pay",
        json={"card_number": "4242 4242 4242 4242"},
        headers=subscriber.customer.auth,
    )

    assert response.status_code == 201
    assert len(payments.charges_for(subscriber.invoice_id)) == 1


class _DiesAfterCharging(Exception):
    """The monolith's process dying between the provider's charge and recording it."""


async def test_a_payment_cut_off_after_the_charge_is_resumed_by_its_key_without_charging_twice(
    app: FastAPI,
    client: httpx.AsyncClient,
    subscriber: Subscriber,
    payments: FakePaymentProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice_id, key = subscriber.invoice_id, new_key()
    charge = payments.charge

    async def charge_then_die(**arguments: Any) -> Any:
        await charge(**arguments)
        raise _DiesAfterCharging

    monkeypatch.setattr(payments, "charge", charge_then_die)
    with pytest.raises(_DiesAfterCharging):
        await pay(client, subscriber.customer, invoice_id, key=key)
    monkeypatch.setattr(payments, "charge", charge)
    assert await _invoice_status(client, subscriber, invoice_id) == "processing"

    another_key = await pay(client, subscriber.customer, invoice_id)
    assert_problem(another_key, 409, "payment-in-progress")
    too_soon = await pay(client, subscriber.customer, invoice_id, key=key)
    assert_problem(too_soon, 409, "payment-in-progress")

    runtime: Runtime = app.root
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(Payment)
            .where(Payment.invoice_id == invoice_id)
            .values(attempted_at=utcnow() - timedelta(minutes=5))
        )
    resumed = await pay(client, subscriber.customer, invoice_id, key=key)

    assert resumed.status_code == 201, resumed.text
    assert resumed.json()["invoice"]["status"] == "paid"
    assert len(payments.charges_for(invoice_id)) == 1
    assert await _payment_statuses(app, invoice_id) == ["succeeded"]
