from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import httpx

PROBLEM = "application/problem+json"
Charge = Callable[..., Coroutine[Any, Any, httpx.Response]]
Refund = Callable[..., Coroutine[Any, Any, httpx.Response]]


async def test_full_refund_gives_back_the_whole_charge(
    client: httpx.AsyncClient, charge: Charge, refund: Refund
) -> None:
    charge_id = (await charge(amount=5000)).json()["id"]

    response = await refund(charge_id=charge_id)

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("re_")
    assert (body["charge_id"], body["amount"], body["status"]) == (charge_id, 5000, "succeeded")
    assert body["created_at"]
    assert (await client.get(f"/v1/charges/{charge_id}")).json()["amount_refunded"] == 5000


async def test_partial_refunds_add_up_to_the_charge(
    client: httpx.AsyncClient, charge: Charge, refund: Refund
) -> None:
    charge_id = (await charge(amount=5000)).json()["id"]

    first = await refund(charge_id=charge_id, amount=1500)
    rest = await refund(charge_id=charge_id)

    assert (first.status_code, first.json()["amount"]) == (201, 1500)
    assert (rest.status_code, rest.json()["amount"]) == (201, 3500)
    listed = (await client.get("/v1/charges")).json()["items"][0]
    assert listed["amount_refunded"] == 5000


async def test_refund_over_the_remaining_is_rejected(
    client: httpx.AsyncClient, charge: Charge, refund: Refund
) -> None:
    charge_id = (await charge(amount=5000)).json()["id"]
    await refund(charge_id=charge_id, amount=4000)

    response = await refund(charge_id=charge_id, amount=1001)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/refund-exceeds-charge")
    assert response.json()["amount_refundable"] == 1000
    assert (await client.get(f"/v1/charges/{charge_id}")).json()["amount_refunded"] == 4000


async def test_fully_refunded_charge_is_not_refundable_again(
    client: httpx.AsyncClient, charge: Charge, refund: Refund
) -> None:
    charge_id = (await charge()).json()["id"]
    await refund(charge_id=charge_id)

    response = await refund(charge_id=charge_id)

    assert response.status_code == 409
    assert response.json()["type"].endswith("/charge-not-refundable")


async def test_refund_of_unknown_charge_is_not_found(refund: Refund) -> None:
    response = await refund(charge_id="ch_unknown")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_declined_charge_is_not_refundable(
    client: httpx.AsyncClient, charge: Charge, refund: Refund
) -> None:
    charge_id = (await charge(card_number="4000000000000002")).json()["charge_id"]

    response = await refund(charge_id=charge_id)

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/charge-not-refundable")


async def test_retrying_a_refund_with_the_same_key_refunds_once(
    client: httpx.AsyncClient, charge: Charge, refund: Refund, key: str
) -> None:
    charge_id = (await charge(amount=5000)).json()["id"]

    first = await refund(key, charge_id=charge_id, amount=1000)
    retry = await refund(key, charge_id=charge_id, amount=1000)
    other = await refund(key, charge_id=charge_id, amount=2000)

    assert retry.content == first.content
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert (await client.get(f"/v1/charges/{charge_id}")).json()["amount_refunded"] == 1000


async def test_a_card_whose_issuer_refuses_refunds_keeps_the_money_where_it_is(
    client: httpx.AsyncClient, charge: Charge, refund: Refund
) -> None:
    charge_id = (await charge(amount=5000, card_number="4000 0000 0000 5126")).json()["id"]

    declined = await refund(charge_id=charge_id, amount=1000)

    assert declined.status_code == 402
    assert declined.headers["content-type"].startswith(PROBLEM)
    assert declined.json()["type"].endswith("/refund-declined")
    assert declined.json()["charge_id"] == charge_id
    assert (await client.get(f"/v1/charges/{charge_id}")).json()["amount_refunded"] == 0
