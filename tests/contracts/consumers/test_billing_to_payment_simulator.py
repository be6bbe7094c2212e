"""Billing → payment simulator: what billing's ``PaymentSimulatorClient`` sends and reads —
a charge, a decline and why, a refund, and the two answers the checkout saga's retries rest
on: a processor timeout (504, nothing recorded: the step may try again) and a key already
holding another charge (422 ``idempotency-key-reused``: the attempt is someone else's).

The real client talks to Pact's mock server; the pact it leaves is replayed against the real
simulator by tests/contracts/providers/test_payment_simulator.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.service_layer.payment_provider import (
    CardDeclined,
    ChargeInFlight,
    ProcessorTimedOut,
)
from pact import Pact, match
from pact.match.matcher import GenericMatcher

from tests.contracts.consumers.state_values import value_from_state
from tests.contracts.pacts import pact_dir

PROBLEM = "application/problem+json"
CHARGED = "a charge of 1999 USD succeeded on the card 4242424242424242"
CHARGE_ID = "ch_1"
HANGS = "the card 4000000000000077 hangs, then the processor times out"


def charge_id_of_the_state() -> GenericMatcher[str]:
    """The id of the charge the provider state made (a provider-state injected value)."""
    return value_from_state(CHARGE_ID, "charge_id")


def declare_processor_timeout(pact: Pact, key: str, description: str) -> None:
    """A charge on the hanging card: 504 ``processor-timeout``, a problem document."""
    (
        pact.upon_receiving("a charge whose processor times out")
        .given(HANGS)
        .with_request("POST", "/v1/charges")
        .with_header("Idempotency-Key", match.str(key))
        .with_body(
            {
                "amount": match.int(700),
                "currency": match.str("USD"),
                "card_number": "4000000000000077",
                "description": match.str(description),
            },
            content_type="application/json",
        )
        .will_respond_with(504)
        .with_body(
            {
                "type": match.regex("x/processor-timeout", regex=r"^.*/processor-timeout$"),
                "detail": match.str("the processor did not answer"),
            },
            content_type=PROBLEM,
        )
    )


def declare_key_reused(pact: Pact, key: str, description: str) -> None:
    """Another charge (another card) under the key the state's charge holds: 422
    ``idempotency-key-reused``."""
    (
        pact.upon_receiving("another charge under a key that already holds a charge")
        .given(CHARGED)
        .with_request("POST", "/v1/charges")
        .with_header("Idempotency-Key", value_from_state(key, "charge_key"))
        .with_body(
            {
                "amount": match.int(500),
                "currency": match.str("USD"),
                "card_number": "4000000000005126",
                "description": match.str(description),
            },
            content_type="application/json",
        )
        .will_respond_with(422)
        .with_body(
            {
                "type": match.regex(
                    "x/idempotency-key-reused", regex=r"^.*/idempotency-key-reused$"
                ),
                "detail": match.str("the key holds another request"),
            },
            content_type=PROBLEM,
        )
    )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Every interaction declared, then one mock server for the module; at its exit the pact
    checks each was exercised, and is written."""
    pact = Pact("billing", "payment-simulator").with_specification("V4")
    _approved(pact)
    _declined(pact)
    _refunded(pact)
    declare_processor_timeout(pact, "order-3-charge", "order 3")
    declare_key_reused(pact, "order-1-charge", "order 1 again")
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


def _approved(pact: Pact) -> None:
    (
        pact.upon_receiving("a charge on an approved card")
        .given("the card 4242424242424242 is approved")
        .with_request("POST", "/v1/charges")
        .with_header("Idempotency-Key", match.str("order-1-charge"))
        .with_body(
            {
                "amount": match.int(1999),
                "currency": match.str("USD"),
                "card_number": "4242424242424242",
                "description": match.str("order 1"),
            },
            content_type="application/json",
        )
        .will_respond_with(201)
        .with_body(
            {"id": match.str("ch_1"), "amount": match.int(1999), "currency": match.str("USD")},
            content_type="application/json",
        )
    )


def _declined(pact: Pact) -> None:
    (
        pact.upon_receiving("a charge on a card declined for insufficient funds")
        .given("the card 4000000000009995 is declined for insufficient funds")
        .with_request("POST", "/v1/charges")
        .with_header("Idempotency-Key", match.str("order-2-charge"))
        .with_body(
            {
                "amount": match.int(500),
                "currency": match.str("USD"),
                "card_number": "4000000000009995",
                "description": match.str("order 2"),
            },
            content_type="application/json",
        )
        .will_respond_with(402)
        .with_body(
            {
                "type": match.str("https://strangler.example/problems/card-declined"),
                "detail": match.str("the card was declined"),
                "decline_code": "insufficient_funds",
            },
            content_type=PROBLEM,
        )
    )


def _refunded(pact: Pact) -> None:
    (
        pact.upon_receiving("a refund of a whole charge")
        .given(CHARGED)
        .with_request("POST", "/v1/refunds")
        .with_header("Idempotency-Key", match.str("order-1-refund"))
        .with_body(
            {"charge_id": charge_id_of_the_state(), "amount": match.int(1999)},
            content_type="application/json",
        )
        .will_respond_with(201)
        .with_body({"id": match.str("re_1"), "amount": match.int(1999)}, "application/json")
    )


@pytest.fixture
async def client(server: str) -> AsyncIterator[PaymentSimulatorClient]:
    """The consumer's real client, pointed at the mock server."""
    client = PaymentSimulatorClient(server, timeout_seconds=10)
    yield client
    await client.aclose()


async def test_an_approved_card_is_charged(client: PaymentSimulatorClient) -> None:
    charge = await client.charge(
        amount_cents=1999,
        currency="USD",
        card_number="4242424242424242",
        description="order 1",
        key="order-1-charge",
    )
    assert charge.amount_cents == 1999


async def test_a_declined_card_says_why(client: PaymentSimulatorClient) -> None:
    with pytest.raises(CardDeclined) as declined:
        await client.charge(
            amount_cents=500,
            currency="USD",
            card_number="4000000000009995",
            description="order 2",
            key="order-2-charge",
        )
    assert declined.value.code == "insufficient_funds"


async def test_a_charge_is_refunded(client: PaymentSimulatorClient) -> None:
    receipt = await client.refund(charge_id=CHARGE_ID, amount_cents=1999, key="order-1-refund")
    assert receipt.amount_cents == 1999


async def test_a_processor_timeout_is_one_the_saga_retries(client: PaymentSimulatorClient) -> None:
    with pytest.raises(ProcessorTimedOut):
        await client.charge(
            amount_cents=700,
            currency="USD",
            card_number="4000000000000077",
            description="order 3",
            key="order-3-charge",
        )


async def test_a_key_holding_another_charge_is_a_charge_in_flight(
    client: PaymentSimulatorClient,
) -> None:
    with pytest.raises(ChargeInFlight):
        await client.charge(
            amount_cents=500,
            currency="USD",
            card_number="4000000000005126",
            description="order 1 again",
            key="order-1-charge",
        )
