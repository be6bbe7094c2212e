from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
import pytest
from payment_simulator.settings import Settings

PROBLEM = "application/problem+json"
Charge = Callable[..., Coroutine[Any, Any, httpx.Response]]
Total = Callable[[], Awaitable[int]]


async def test_approved_card_answers_a_succeeded_charge(charge: Charge) -> None:
    response = await charge(description="Invoice 42")

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("ch_")
    assert body["status"] == "succeeded"
    assert (body["amount"], body["currency"], body["card_last4"]) == (1999, "eur", "4242")
    assert body["description"] == "Invoice 42"
    assert body["created_at"]
    assert "Idempotent-Replayed" not in response.headers


async def test_card_number_spaces_and_currency_case_do_not_matter(charge: Charge) -> None:
    response = await charge(card_number="4242 4242 4242 4242", currency="USD")

    assert response.status_code == 201
    assert response.json()["currency"] == "usd"


async def test_any_other_luhn_valid_number_is_approved(charge: Charge) -> None:
    response = await charge(card_number="5555555555554444")

    assert response.status_code == 201
    assert response.json()["card_last4"] == "4444"


async def test_retrying_a_charge_with_the_same_key_never_charges_twice(
    charge: Charge, key: str, charges_total: Total
) -> None:
    first = await charge(key)
    retry = await charge(key)

    assert retry.status_code == first.status_code == 201
    assert retry.content == first.content
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await charges_total() == 1


@pytest.mark.parametrize(
    ("card_number", "decline_code"),
    [("4000000000000002", "generic_decline"), ("4000000000009995", "insufficient_funds")],
)
async def test_declined_card_records_no_money_movement(
    client: httpx.AsyncClient, charge: Charge, card_number: str, decline_code: str
) -> None:
    response = await charge(card_number=card_number)

    assert response.status_code == 402
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith("/card-declined")
    assert problem["decline_code"] == decline_code
    recorded = (await client.get(f"/v1/charges/{problem['charge_id']}")).json()
    assert recorded["status"] == "failed"
    assert recorded["failure_code"] == decline_code
    assert recorded["amount_refunded"] == 0


async def test_retrying_a_declined_charge_replays_the_decline(
    charge: Charge, key: str, charges_total: Total
) -> None:
    first = await charge(key, card_number="4000000000000002")
    retry = await charge(key, card_number="4000000000000002")

    assert retry.status_code == 402
    assert retry.content == first.content
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await charges_total() == 1


async def test_hanging_card_times_out_without_a_succeeded_charge(
    charge: Charge, key: str, charges_total: Total
) -> None:
    response = await charge(key, card_number="4000000000000077")

    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/processor-timeout")
    assert await charges_total() == 0


async def test_a_timed_out_charge_may_be_retried_with_its_key(charge: Charge, key: str) -> None:
    await charge(key, card_number="4000000000000077")

    retry = await charge(key, card_number="4000000000000077")

    assert retry.status_code == 504
    assert "Idempotent-Replayed" not in retry.headers


@pytest.mark.parametrize("settings", [Settings(hang_seconds=0.3, max_body_bytes=1024)])
async def test_concurrent_retry_while_in_flight_is_a_conflict(
    charge: Charge, key: str, charges_total: Total
) -> None:
    first = asyncio.create_task(charge(key, card_number="4000000000000077"))
    await asyncio.sleep(0.05)

    retry = await charge(key, card_number="4000000000000077")

    assert retry.status_code == 409
    assert retry.headers["content-type"] == PROBLEM
    assert retry.json()["type"].endswith("/idempotency-key-in-use")
    assert (await first).status_code == 504
    assert await charges_total() == 0


async def test_reusing_a_key_with_another_body_is_rejected(
    charge: Charge, key: str, charges_total: Total
) -> None:
    await charge(key, amount=1000)

    reused = await charge(key, amount=2000)

    assert reused.status_code == 422
    assert reused.headers["content-type"] == PROBLEM
    assert reused.json()["type"].endswith("/idempotency-key-reused")
    assert await charges_total() == 1


async def test_charges_are_listed_newest_first_in_pages(
    client: httpx.AsyncClient, charge: Charge
) -> None:
    ids = [(await charge(amount=amount)).json()["id"] for amount in (100, 200, 300)]

    page = (await client.get("/v1/charges", params={"limit": 2, "offset": 0})).json()
    rest = (await client.get("/v1/charges", params={"limit": 2, "offset": 2})).json()

    assert page["total"] == rest["total"] == 3
    assert [item["id"] for item in page["items"] + rest["items"]] == ids[::-1]


async def test_unknown_charge_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/charges/ch_nope")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_simulator_is_ready_without_dependencies(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["component"] == "payment-simulator"
