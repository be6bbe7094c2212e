"""The gateway → billing's checkout: the route born in billing (``billing-checkout``, no legacy
side), as a customer's client uses it through a real gateway process whose billing upstream
is Pact's mock server.

- ``POST /api/billing/checkout`` with the customer's bearer and an ``Idempotency-Key`` is
  answered 202 at once, with the checkout's ``Location`` (a path: the gateway passes it on)
  and where it stands;
- ``GET`` on that location says where it stands (the id is the provider state's checkout);
- the gateway's breaker probe finds billing live (probes.py).

The customer's token is the provider state's (a provider-state injected value: the pact
holds an example, the verification a token billing trusts). Verified against a real
billing process by tests/contracts/providers/test_billing.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from pact import Pact, match

from tests.contracts.consumers.probes import declare_liveness, gateway_finds_it_live
from tests.contracts.consumers.state_values import bearer_from_state, path_from_state
from tests.contracts.pacts import pact_dir
from tests.contracts.providers.gateway_state import gateway_process

CHECKOUT_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
TOKEN = "a-customers-access-token"
CARD = "4242424242424242"
A_CUSTOMER = "one customer is known to billing"
A_CHECKOUT = "a customer has started a checkout at billing"
CHECKOUT = {
    "id": match.str(CHECKOUT_ID),
    "status": match.regex(
        "running", regex=r"^(running|compensating|completed|compensated|compensation_failed)$"
    ),
    "plan_id": "pro",
    "card_last4": "4242",
    "subscription_id": match.str("sub-1"),
    "invoice_id": match.str("inv-1"),
    "steps": match.each_like(
        {"name": match.str("start-subscription"), "state": match.str("pending")}, min=1
    ),
}


def _declare(pact: Pact) -> None:
    (
        pact.upon_receiving("a checkout started through the gateway")
        .given(A_CUSTOMER)
        .with_request("POST", "/api/billing/checkout")
        .with_header("Authorization", bearer_from_state(TOKEN, "customer_token"))
        .with_header("Idempotency-Key", match.str("checkout-1"))
        .with_body({"plan_id": "pro", "card_number": CARD}, "application/json")
        .will_respond_with(202)
        .with_header(
            "Location",
            match.regex(
                f"/api/billing/checkout/{CHECKOUT_ID}", regex=r"^/api/billing/checkout/[^/]+$"
            ),
        )
        .with_body(CHECKOUT, "application/json")
    )
    (
        pact.upon_receiving("where a checkout stands, through the gateway")
        .given(A_CHECKOUT)
        .with_request(
            "GET",
            path_from_state("/api/billing/checkout", CHECKOUT_ID, "checkout_id"),
        )
        .with_header("Authorization", bearer_from_state(TOKEN, "customer_token"))
        .will_respond_with(200)
        .with_body(CHECKOUT, "application/json")
    )


def test_a_checkout_goes_through_the_gateway_to_billing(tmp_path: Path) -> None:
    pact = Pact("gateway", "billing").with_specification("V4")
    _declare(pact)
    declare_liveness(pact)
    with (
        pact.serve() as mock,
        gateway_process(tmp_path, billing_url=str(mock.url)) as gateway,
    ):
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=gateway.url, headers=bearer, timeout=30) as client:
            started = client.post(
                "/api/billing/checkout",
                json={"plan_id": "pro", "card_number": CARD},
                headers={"Idempotency-Key": "checkout-1"},
            )
            stands = client.get(started.headers["Location"])
        asyncio.run(gateway_finds_it_live(str(mock.url)))
    pact.write_file(pact_dir(), overwrite=True)
    assert started.status_code == 202, started.text
    assert started.headers["x-strangler-route"] == "billing-checkout"
    assert stands.status_code == 200, stands.text
    assert stands.json()["id"] == started.json()["id"] == CHECKOUT_ID
