from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
import pytest

PROBLEM = "application/problem+json"
VALID = {"amount": 1999, "currency": "eur", "card_number": "4242424242424242"}
Charge = Callable[..., Coroutine[Any, Any, httpx.Response]]
Total = Callable[[], Awaitable[int]]


def with_(**changes: Any) -> dict[str, Any]:
    body = {**VALID, **changes}
    return {name: value for name, value in body.items() if value is not ...}


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        (with_(amount="1999"), 422, "validation-failed"),
        (with_(amount=19.99), 422, "validation-failed"),
        (with_(amount=True), 422, "validation-failed"),
        (with_(amount=0), 422, "validation-failed"),
        (with_(amount=...), 422, "validation-failed"),
        (with_(currency="euro"), 422, "validation-failed"),
        (with_(card_number=4242424242424242), 422, "validation-failed"),
        (with_(description="x" * 501), 422, "validation-failed"),
        (with_(surprise="field"), 422, "validation-failed"),
        (with_(card_number="4242424242424241"), 422, "invalid-card-number"),
        (with_(card_number="4242-4242-4242-4242"), 422, "invalid-card-number"),
        (with_(card_number="42"), 422, "invalid-card-number"),
        ([VALID], 422, "validation-failed"),
    ],
)
async def test_invalid_charge_is_a_problem_and_records_nothing(
    client: httpx.AsyncClient,
    charges_total: Total,
    key: str,
    body: object,
    status: int,
    slug: str,
) -> None:
    response = await client.post("/v1/charges", json=body, headers={"Idempotency-Key": key})

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith(f"/{slug}")
    assert await charges_total() == 0


async def test_malformed_json_is_a_problem_and_records_nothing(
    client: httpx.AsyncClient, charges_total: Total, key: str
) -> None:
    response = await client.post(
        "/v1/charges",
        content=b'{"amount": 1999,',
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/malformed-json")
    assert await charges_total() == 0


async def test_oversize_body_is_refused_and_records_nothing(
    client: httpx.AsyncClient, charges_total: Total, key: str
) -> None:
    response = await client.post(
        "/v1/charges",
        json=with_(description="x" * 2000),
        headers={"Idempotency-Key": key},
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert await charges_total() == 0


@pytest.mark.parametrize("path", ["/v1/charges", "/v1/refunds"])
async def test_missing_idempotency_key_is_a_problem_and_records_nothing(
    client: httpx.AsyncClient, charges_total: Total, path: str
) -> None:
    response = await client.post(path, json=VALID)

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/idempotency-key-required")
    assert await charges_total() == 0


async def test_a_refused_request_leaves_its_key_free(charge: Charge, key: str) -> None:
    refused = await charge(key, card_number="1234")

    corrected = await charge(key)

    assert refused.status_code == 422
    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected.headers


@pytest.mark.parametrize(
    "body",
    [{"charge_id": "ch_x", "amount": -5}, {"charge_id": "ch_x", "amount": "5"}, {"amount": 5}],
)
async def test_invalid_refund_is_a_problem(
    client: httpx.AsyncClient, key: str, body: object
) -> None:
    response = await client.post("/v1/refunds", json=body, headers={"Idempotency-Key": key})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/validation-failed")
