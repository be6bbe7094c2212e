"""A customer's whole journey through the real processes, over real HTTP and SMTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.support.polling import eventually

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
HANGING_CARD = "4000 0000 0000 0077"

pytestmark = pytest.mark.e2e


async def _mails_to(mail: httpx.AsyncClient, address: str, expected: int) -> list[dict[str, Any]]:
    """The sink's messages for one recipient, waiting (bounded) for ``expected`` of them."""
    items: list[dict[str, Any]] = []
    for _ in range(100):
        response = await mail.get("/messages", params={"to": address, "limit": 100})
        response.raise_for_status()
        items = response.json()["items"]
        if len(items) >= expected:
            break
        await asyncio.sleep(0.1)
    return items


async def _charges_for(paysim: httpx.AsyncClient, invoice_id: str) -> list[dict[str, Any]]:
    response = await paysim.get("/v1/charges", params={"limit": 100})
    response.raise_for_status()
    return [c for c in response.json()["items"] if c.get("description") == f"Invoice {invoice_id}"]


async def test_customer_registers_subscribes_pays_and_is_refunded(system: Any) -> None:
    email = f"journey-{uuid.uuid4().hex[:10]}@example.com"
    async with (
        httpx.AsyncClient(base_url=system.monolith_url, timeout=30) as api,
        httpx.AsyncClient(base_url=system.mail_url, timeout=10) as mail,
        httpx.AsyncClient(base_url=system.payment_simulator_url, timeout=10) as paysim,
    ):
        registered = await api.post(
            "/api/users", json={"email": email, "password": "correct-horse", "name": "Journey"}
        )
        assert registered.status_code == 201, registered.text
        welcome = await _mails_to(mail, email, 1)
        assert [m["subject"] for m in welcome] == ["Welcome to Strangler Fig, Journey"]

        login = await api.post(
            "/api/auth/login", json={"email": email, "password": "correct-horse"}
        )
        assert login.status_code == 200
        token = login.json()
        assert token["token_type"] == "bearer"
        assert token["expires_in"] > 0
        api.headers["Authorization"] = f"Bearer {token['access_token']}"

        me = await api.get("/api/users/me")
        assert me.json()["email"] == email

        subscribed = await api.post("/api/billing/subscriptions", json={"plan_id": "pro"})
        assert subscribed.status_code == 201, subscribed.text
        invoice_id = subscribed.json()["invoice"]["id"]
        assert subscribed.json()["invoice"]["status"] == "open"

        declined = await api.post(
            f"/api/billing/invoices/{invoice_id}/pay", json={"card_number": DECLINED_CARD}
        )
        assert declined.status_code == 402
        assert declined.headers["content-type"] == "application/problem+json"
        assert declined.json()["decline_code"] == "generic_decline"

        hanging = await api.post(
            f"/api/billing/invoices/{invoice_id}/pay", json={"card_number": HANGING_CARD}
        )
        assert hanging.status_code == 504
        assert hanging.json()["type"].endswith("/payment-provider-timeout")
        still_open = await api.get(f"/api/billing/invoices/{invoice_id}")
        assert still_open.json()["status"] == "open"
        assert not [c for c in await _charges_for(paysim, invoice_id) if c["status"] == "succeeded"]

        # The provider may still be running the hanging attempt: until it lets go, another
        # card for the same attempt is refused (409 payment-in-progress), never charged beside it.
        answers: list[httpx.Response] = []

        async def paid_with_another_card() -> bool:
            answer = await api.post(
                f"/api/billing/invoices/{invoice_id}/pay",
                json={"card_number": GOOD_CARD},
                headers={"Idempotency-Key": "journey-pay-1"},
            )
            answers.append(answer)
            if answer.status_code == 409:
                assert answer.json()["type"].endswith("/payment-in-progress"), answer.text
            return answer.status_code != 409

        await eventually(paid_with_another_card, "the provider let go of the hanging attempt", 30)
        paid = answers[-1]
        assert paid.status_code == 201, paid.text
        assert paid.json()["invoice"]["status"] == "paid"

        retried = await api.post(
            f"/api/billing/invoices/{invoice_id}/pay",
            json={"card_number": GOOD_CARD},
            headers={"Idempotency-Key": "journey-pay-1"},
        )
        assert retried.status_code == 201
        assert retried.headers["Idempotent-Replayed"] == "true"
        assert retried.json()["payment"]["id"] == paid.json()["payment"]["id"]
        succeeded = [
            c for c in await _charges_for(paysim, invoice_id) if c["status"] == "succeeded"
        ]
        assert len(succeeded) == 1

        refunded = await api.post(f"/api/billing/invoices/{invoice_id}/refund", json={})
        assert refunded.status_code == 201, refunded.text
        assert refunded.json()["invoice"]["status"] == "refunded"
        charge = await paysim.get(f"/v1/charges/{succeeded[0]['id']}")
        assert charge.json()["amount_refunded"] == succeeded[0]["amount"]

        subjects = {m["subject"] for m in await _mails_to(mail, email, 5)}
        assert subjects == {
            "Welcome to Strangler Fig, Journey",
            "Invoice for Pro: 29.00 EUR",
            "Payment failed for invoice " + invoice_id,
            "Payment received: 29.00 EUR",
            "Refund issued: 29.00 EUR",
        }
        listed = await api.get("/api/notifications")
        assert listed.json()["total"] == 5
        assert {n["status"] for n in listed.json()["items"]} == {"sent"}


async def test_bad_requests_over_the_wire_get_problem_documents(system: Any) -> None:
    async with httpx.AsyncClient(base_url=system.monolith_url, timeout=30) as api:
        before = await api.get("/api/billing/plans")

        malformed = await api.post(
            "/api/users", content=b'{"email": ', headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 400
        assert malformed.headers["content-type"] == "application/problem+json"

        async def huge_body() -> Any:
            for _ in range(100):
                yield b"x" * 1024

        oversize = await api.post(
            "/api/users", content=huge_body(), headers={"content-type": "application/json"}
        )
        assert oversize.status_code == 413
        assert oversize.json()["type"].endswith("/payload-too-large")

        unknown = await api.get("/api/nothing-here")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"

        assert (await api.get("/api/billing/plans")).json() == before.json()


async def test_the_gateway_serves_the_monolith_and_says_where_each_request_went(
    system: Any,
) -> None:
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as public:
        plans = await public.get("/api/billing/plans")
        login = await public.post(
            "/api/auth/login", json={"email": "bob@example.com", "password": "demo-password"}
        )
        unknown = await public.get("/nowhere")

    assert plans.status_code == 200
    assert [plan["id"] for plan in plans.json()["items"]] == ["starter", "pro", "business"]
    assert plans.headers["x-strangler-route"] == "billing"
    assert plans.headers["x-strangler-target"] == "legacy"
    assert plans.headers["x-strangler-reason"] == "flag:legacy"
    assert login.status_code == 200
    assert login.headers["x-strangler-route"] == "auth"
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
