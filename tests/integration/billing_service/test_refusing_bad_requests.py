"""Every bad billing request is the monolith's problem document, and writes nothing at all.

The cases are the monolith's own (``tests/support/monolith_bad_requests.py``), every one of
them under ``/api/billing``: the same request must be refused the same way by either side.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from legacy_monolith.security import TokenIssuer

from tests.integration.billing_service.conftest import JWT_SECRET, known_customer, token_for
from tests.support.monolith_api import (
    PASSWORD,
    Customer,
    Subscriber,
    assert_problem,
    subscribe,
    unique_email,
)
from tests.support.monolith_bad_requests import BAD_REQUESTS, send
from tests.support.monolith_database import Snapshot

pytestmark = pytest.mark.integration

BILLING_CASES = [
    name for name, case in BAD_REQUESTS.items() if case.path.startswith("/api/billing")
]


@pytest.fixture
async def subscriber(app: FastAPI, client: httpx.AsyncClient) -> Subscriber:
    customer = await known_customer(app, "subscriber")
    created = await subscribe(client, customer, "pro")
    return Subscriber(customer, created["subscription"]["id"], created["invoice"]["id"])


def test_the_monolith_s_catalogue_of_bad_billing_requests_is_all_here() -> None:
    assert len(BILLING_CASES) >= 15


@pytest.mark.parametrize("name", BILLING_CASES)
async def test_a_bad_request_is_the_monolith_s_problem_and_writes_nothing(
    client: httpx.AsyncClient, snapshot: Snapshot, subscriber: Subscriber, name: str
) -> None:
    case = BAD_REQUESTS[name]
    before = await snapshot()

    response = await send(client, case, subscriber)

    problem = assert_problem(response, case.status, case.problem)
    if case.problem == "validation-failed":
        assert all({"pointer", "message", "code"} <= set(error) for error in problem["errors"])
    assert set(case.pointers) <= {error["pointer"] for error in problem.get("errors", [])}
    assert await snapshot() == before


async def test_a_body_declared_over_the_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient, snapshot: Snapshot, subscriber: Subscriber
) -> None:
    before = await snapshot()

    response = await client.post(
        f"/api/billing/invoices/{subscriber.invoice_id}/pay",
        content=b" " * (64 * 1024 + 1),
        headers=subscriber.customer.auth | {"Content-Type": "application/json"},
    )

    assert assert_problem(response, 413, "payload-too-large")["max_bytes"] == 64 * 1024
    assert await snapshot() == before


async def test_subscribing_before_the_registration_arrived_is_a_conflict_to_retry(
    client: httpx.AsyncClient, snapshot: Snapshot
) -> None:
    user_id, email = str(uuid.uuid4()), unique_email("stranger")
    stranger = Customer(user_id, email, PASSWORD, token_for(user_id, email))
    before = await snapshot()

    response = await client.post(
        "/api/billing/subscriptions", json={"plan_id": "pro"}, headers=stranger.auth
    )

    problem = assert_problem(response, 409, "customer-unknown")
    assert stranger.id in problem["detail"]
    assert response.headers["retry-after"] == "1"
    assert await snapshot() == before


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-token",
        "Basic dXNlcjpwYXNz",
    ],
    ids=["no-token", "garbage-token", "not-bearer"],
)
async def test_a_request_without_a_valid_token_is_unauthenticated_and_writes_nothing(
    client: httpx.AsyncClient, snapshot: Snapshot, authorization: str | None
) -> None:
    before = await snapshot()
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await client.post(
        "/api/billing/subscriptions", json={"plan_id": "pro"}, headers=headers
    )

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert await snapshot() == before


async def test_a_token_signed_with_another_secret_is_not_trusted(
    app: FastAPI, client: httpx.AsyncClient, snapshot: Snapshot
) -> None:
    customer = await known_customer(app)
    forged = TokenIssuer(JWT_SECRET[::-1], "legacy-monolith", 3600).issue(customer.id, "x@y.z")
    before = await snapshot()

    response = await client.get(
        "/api/billing/invoices", headers={"Authorization": f"Bearer {forged}"}
    )

    assert_problem(response, 401, "unauthenticated")
    assert await snapshot() == before
