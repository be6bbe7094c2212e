from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import httpx
import pytest
from payment_simulator.app import create_app
from payment_simulator.settings import Settings

Charge = Callable[..., Coroutine[Any, Any, httpx.Response]]
Refund = Callable[..., Coroutine[Any, Any, httpx.Response]]


def _new_key() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def key() -> str:
    return _new_key()


@pytest.fixture
def settings() -> Settings:
    return Settings(hang_seconds=0.05, latency_ms=0, max_body_bytes=1024)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://paysim.test") as client:
        yield client


@pytest.fixture
def charge(client: httpx.AsyncClient) -> Charge:
    """POST /v1/charges with a valid body, overridden by keyword, under a fresh or given key."""

    async def post(key: str | None = None, **overrides: Any) -> httpx.Response:
        body = {"amount": 1999, "currency": "eur", "card_number": "4242424242424242"}
        body.update(overrides)
        return await client.post(
            "/v1/charges", json=body, headers={"Idempotency-Key": key or _new_key()}
        )

    return post


@pytest.fixture
def refund(client: httpx.AsyncClient) -> Refund:
    """POST /v1/refunds with the given body under a fresh or given key."""

    async def post(key: str | None = None, **body: Any) -> httpx.Response:
        return await client.post(
            "/v1/refunds", json=body, headers={"Idempotency-Key": key or _new_key()}
        )

    return post


@pytest.fixture
def charges_total(client: httpx.AsyncClient) -> Callable[[], Awaitable[int]]:
    async def total() -> int:
        response = await client.get("/v1/charges")
        assert response.status_code == 200
        count: int = response.json()["total"]
        return count

    return total
