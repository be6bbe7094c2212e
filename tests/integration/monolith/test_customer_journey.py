"""A customer's whole journey on PostgreSQL, paying through the real payment simulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.monolith_api import (
    DECLINED_CARD,
    HANGING_CARD,
    PASSWORD,
    Customer,
    assert_problem,
    log_in,
    new_key,
    pay,
    refund,
    register,
    subscribe,
    unique_email,
)

pytestmark = pytest.mark.integration


async def _charges_for(simulator: httpx.AsyncClient, invoice_id: str) -> list[dict[str, Any]]:
    """Every charge the simulator holds for the invoice; the monolith names it in each."""
    response = await simulator.get("/v1/charges", params={"limit": 100})
    assert response.status_code == 200
    return [c for c in response.json()["items"] if c["description"] == f"Invoice {invoice_id}"]


async def test_register_subscribe_survive_a_decline_and_a_timeout_pay_once_and_refund(
    client: httpx.AsyncClient, payment_simulator: httpx.AsyncClient
) -> None:
    email = unique_email("journey")
    assert (await register(client, email)).status_code == 201
    login = await log_in(client, email)
    assert login.status_code == 200
    token = login.json()["access_token"]
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == email
    customer = Customer(me.json()["id"], email, PASSWORD, token)
    invoice_id = (await subscribe(client, customer, "pro"))["invoice"]["id"]

    declined = await pay(client, customer, invoice_id, DECLINED_CARD)
    assert_problem(declined, 402, "card-declined")

    hanging = await pay(client, customer, invoice_id, HANGING_CARD)
    assert_problem(hanging, 504, "payment-provider-timeout")
    assert [c["status"] for c in await _charges_for(payment_simulator, invoice_id)] == ["failed"]
    invoice = await client.get(f"/api/billing/invoices/{invoice_id}", headers=customer.auth)
    assert invoice.json()["status"] == "open"

    key = new_key()
    paid = await pay(client, customer, invoice_id, key=key)
    assert paid.status_code == 201
    assert paid.json()["invoice"]["status"] == "paid"

    retried = await pay(client, customer, invoice_id, key=key)
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["payment"]["id"] == paid.json()["payment"]["id"]
    succeeded = [
        c for c in await _charges_for(payment_simulator, invoice_id) if c["status"] == "succeeded"
    ]
    assert [(c["id"], c["amount"]) for c in succeeded] == [
        (paid.json()["payment"]["provider_charge_id"], 2900)
    ]

    refunded = await refund(client, customer, invoice_id)
    assert refunded.status_code == 201
    assert refunded.json()["invoice"]["status"] == "refunded"
    charge = await payment_simulator.get(f"/v1/charges/{succeeded[0]['id']}")
    assert charge.json()["amount_refunded"] == 2900
