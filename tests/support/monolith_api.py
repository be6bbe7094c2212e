"""Driving the legacy monolith's HTTP API the way a customer does, and reading its problems."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "DECLINED_CARD",
    "GOOD_CARD",
    "HANGING_CARD",
    "PASSWORD",
    "Customer",
    "Subscriber",
    "assert_problem",
    "log_in",
    "new_key",
    "pay",
    "refund",
    "register",
    "sign_up",
    "sign_up_and_subscribe",
    "subscribe",
    "unique_email",
]

PASSWORD = "correct-horse-battery"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
HANGING_CARD = "4000000000000077"

PROBLEM_TYPE_BASE = "https://strangler-fig.dev/problems/"


def unique_email(who: str = "customer") -> str:
    return f"{who}-{uuid.uuid4().hex[:12]}@example.com"


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Customer:
    id: str
    email: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(
    client: httpx.AsyncClient,
    email: str | None = None,
    password: str = PASSWORD,
    name: str = "Ada Lovelace",
) -> httpx.Response:
    body = {"email": email or unique_email(), "password": password, "name": name}
    return await client.post("/api/users", json=body)


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def sign_up(client: httpx.AsyncClient, who: str = "customer") -> Customer:
    """Register a new account with a unique e-mail and log in to it."""
    email = unique_email(who)
    registered = await register(client, email)
    assert registered.status_code == 201, registered.text
    logged_in = await log_in(client, email)
    assert logged_in.status_code == 200, logged_in.text
    return Customer(registered.json()["id"], email, PASSWORD, logged_in.json()["access_token"])


async def subscribe(
    client: httpx.AsyncClient, customer: Customer, plan_id: str = "pro"
) -> dict[str, Any]:
    """Subscribe and answer the created ``{"subscription", "invoice"}``."""
    response = await client.post(
        "/api/billing/subscriptions", json={"plan_id": plan_id}, headers=customer.auth
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@dataclass(frozen=True)
class Subscriber:
    """A signed-in customer with an active subscription and its first, open invoice."""

    customer: Customer
    subscription_id: str
    invoice_id: str


async def sign_up_and_subscribe(
    client: httpx.AsyncClient, who: str = "subscriber", plan_id: str = "pro"
) -> Subscriber:
    customer = await sign_up(client, who)
    created = await subscribe(client, customer, plan_id)
    return Subscriber(customer, created["subscription"]["id"], created["invoice"]["id"])


async def pay(
    client: httpx.AsyncClient,
    customer: Customer,
    invoice_id: str,
    card_number: str = GOOD_CARD,
    key: str | None = None,
) -> httpx.Response:
    return await client.post(
        f"/api/billing/invoices/{invoice_id}/pay",
        json={"card_number": card_number},
        headers={**customer.auth, "Idempotency-Key": key or new_key()},
    )


async def refund(
    client: httpx.AsyncClient,
    customer: Customer,
    invoice_id: str,
    amount_cents: int | None = None,
    key: str | None = None,
) -> httpx.Response:
    body = {} if amount_cents is None else {"amount_cents": amount_cents}
    return await client.post(
        f"/api/billing/invoices/{invoice_id}/refund",
        json=body,
        headers={**customer.auth, "Idempotency-Key": key or new_key()},
    )


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of that status and type, with no stack trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["type"] == PROBLEM_TYPE_BASE + slug, problem
    assert problem["status"] == status
    assert isinstance(problem["title"], str)
    assert problem["title"]
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    return problem
