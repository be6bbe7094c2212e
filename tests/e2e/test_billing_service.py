"""The billing service in the running system: registration reaches it by events only.

A user registers through the gateway (served by the monolith); nothing calls billing. The
monolith's outbox relay publishes ``UserRegistered``, billing's consumer makes a customer of
it, and from then on billing serves that user directly on its own port, and publishes what
it does through its own outbox.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.broker_records import events_about
from tests.support.polling import eventually
from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

GOOD_CARD = "4242 4242 4242 4242"
REGISTRATION_REACHES_BILLING_WITHIN_SECONDS = 60.0


async def test_a_user_registered_through_the_gateway_becomes_a_billing_customer_by_events(
    system: RunningSystem,
) -> None:
    email = f"billing-e2e-{uuid.uuid4().hex[:10]}@example.com"
    async with (
        httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway,
        httpx.AsyncClient(base_url=system.billing_url, timeout=30) as billing,
    ):
        registered = await gateway.post(
            "/api/users", json={"email": email, "password": "correct-horse", "name": "Bill"}
        )
        assert registered.status_code == 201, registered.text
        login = await gateway.post(
            "/api/auth/login", json={"email": email, "password": "correct-horse"}
        )
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        answers: list[httpx.Response] = []

        async def subscribed_at_billing() -> bool:
            answer = await billing.post(
                "/api/billing/subscriptions", json={"plan_id": "pro"}, headers=auth
            )
            answers.append(answer)
            return answer.status_code == 201

        await eventually(
            subscribed_at_billing,
            "billing knows the registered user",
            REGISTRATION_REACHES_BILLING_WITHIN_SECONDS,
            every=0.2,
        )

        not_yet = [answer.json()["type"] for answer in answers[:-1]]
        assert set(not_yet) <= {"https://strangler-fig.dev/problems/customer-unknown"}
        created = answers[-1].json()
        paid = await billing.post(
            f"/api/billing/invoices/{created['invoice']['id']}/pay",
            json={"card_number": GOOD_CARD},
            headers=auth | {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"},
        )
        assert paid.status_code == 201, paid.text
        invoices = (await billing.get("/api/billing/invoices", headers=auth)).json()
        assert [(i["id"], i["status"]) for i in invoices["items"]] == [
            (created["invoice"]["id"], "paid")
        ]

    customer_id = registered.json()["id"]  # billing's events are keyed by customer
    published = await events_about(system.broker_bootstrap, "strangler.billing", customer_id, 3)
    assert [envelope["type"].rsplit(".", 2)[-2] for envelope, _ in published] == [
        "subscription-started",
        "invoice-issued",
        "payment-succeeded",
    ]
    assert {envelope["source"] for envelope, _ in published} == {"/billing"}
    assert {envelope["data"]["subscription_id"] for envelope, _ in published} == {
        created["subscription"]["id"]
    }
