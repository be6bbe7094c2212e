"""The monolith → payment simulator: what the monolith's ``HttpPaymentProvider`` sends and
reads when a customer pays an invoice, and when an invoice is refunded; and, as billing's
client does, a processor timeout (504) and a key already holding another charge (422).

The charge to refund is the provider state's (its id a provider-state injected value). The
idempotency keys are the monolith's own shape and differ from billing's pact, which the same
simulator replays. Verified by tests/contracts/providers/test_payment_simulator.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from legacy_monolith.billing.payment_provider import (
    AttemptTakenElsewhere,
    CardDeclined,
    HttpPaymentProvider,
    ProviderTimeout,
)
from pact import Pact, match

from tests.contracts.consumers.test_billing_to_payment_simulator import (
    CHARGE_ID,
    CHARGED,
    charge_id_of_the_state,
    declare_key_reused,
    declare_processor_timeout,
)
from tests.contracts.pacts import pact_dir

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    pact = Pact("legacy-monolith", "payment-simulator").with_specification("V4")
    (
        pact.upon_receiving("an invoice paid with an approved card")
        .given("the card 4242424242424242 is approved")
        .with_request("POST", "/v1/charges")
        .with_header("Idempotency-Key", match.str("invoice-7-attempt-1"))
        .with_body(
            {
                "amount": match.int(1999),
                "currency": match.str("USD"),
                "card_number": "4242424242424242",
                "description": match.str("invoice 7"),
            },
            content_type="application/json",
        )
        .will_respond_with(201)
        .with_body(
            {"id": match.str("ch_7"), "amount": match.int(1999), "currency": match.str("USD")},
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("an invoice paid with a card declined for insufficient funds")
        .given("the card 4000000000009995 is declined for insufficient funds")
        .with_request("POST", "/v1/charges")
        .with_header("Idempotency-Key", match.str("invoice-8-attempt-1"))
        .with_body(
            {
                "amount": match.int(500),
                "currency": match.str("USD"),
                "card_number": "4000000000009995",
                "description": match.str("invoice 8"),
            },
            content_type="application/json",
        )
        .will_respond_with(402)
        .with_body(
            {"detail": match.str("the card was declined"), "decline_code": "insufficient_funds"},
            content_type=PROBLEM,
        )
    )
    (
        pact.upon_receiving("an invoice's charge refunded")
        .given(CHARGED)
        .with_request("POST", "/v1/refunds")
        .with_header("Idempotency-Key", match.str("invoice-7-refund"))
        .with_body(
            {"charge_id": charge_id_of_the_state(), "amount": match.int(1999)},
            content_type="application/json",
        )
        .will_respond_with(201)
        .with_body({"id": match.str("re_7"), "amount": match.int(1999)}, "application/json")
    )
    declare_processor_timeout(pact, "invoice-9-attempt-1", "invoice 9")
    declare_key_reused(pact, "invoice-7-attempt-1", "invoice 7 again")
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


@pytest.fixture
async def provider(server: str) -> AsyncIterator[HttpPaymentProvider]:
    """The consumer's real client, pointed at the mock server."""
    provider = HttpPaymentProvider(server, timeout_seconds=10)
    yield provider
    await provider.aclose()


async def test_the_monolith_charges_an_approved_card(provider: HttpPaymentProvider) -> None:
    charge = await provider.charge(
        amount_cents=1999,
        currency="USD",
        card_number="4242424242424242",
        description="invoice 7",
        key="invoice-7-attempt-1",
    )
    assert (charge.charge_id, charge.amount_cents) == ("ch_7", 1999)


async def test_the_monolith_reads_why_a_card_was_declined(provider: HttpPaymentProvider) -> None:
    with pytest.raises(CardDeclined) as declined:
        await provider.charge(
            amount_cents=500,
            currency="USD",
            card_number="4000000000009995",
            description="invoice 8",
            key="invoice-8-attempt-1",
        )
    assert declined.value.code == "insufficient_funds"


async def test_the_monolith_refunds_a_charge(provider: HttpPaymentProvider) -> None:
    receipt = await provider.refund(charge_id=CHARGE_ID, amount_cents=1999, key="invoice-7-refund")
    assert receipt.amount_cents == 1999


async def test_the_monolith_reads_a_processor_timeout(provider: HttpPaymentProvider) -> None:
    with pytest.raises(ProviderTimeout):
        await provider.charge(
            amount_cents=700,
            currency="USD",
            card_number="4000000000000077",
            description="invoice 9",
            key="invoice-9-attempt-1",
        )


async def test_the_monolith_reads_a_key_holding_another_charge(
    provider: HttpPaymentProvider,
) -> None:
    with pytest.raises(AttemptTakenElsewhere):
        await provider.charge(
            amount_cents=500,
            currency="USD",
            card_number="4000000000005126",
            description="invoice 7 again",
            key="invoice-7-attempt-1",
        )
