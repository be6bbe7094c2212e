"""Registrations become customers once; billing's events become the published contracts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import strangler_contracts as contract
from billing_service.adapters.events import contract_event
from billing_service.domain import events
from billing_service.domain.commands import AddCustomer, Subscribe
from billing_service.service_layer.billing import Billing

from tests.unit.billing_service.fakes import FakeStore

NOW = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


async def test_a_registration_makes_the_user_a_customer_who_can_subscribe(
    billing: Billing, store: FakeStore
) -> None:
    await billing.add_customer(
        AddCustomer("erin", "erin@example.com", "Erin", NOW, "legacy-monolith")
    )

    created = await billing.subscribe(Subscribe("erin", "pro"))

    customer = store.customers["erin"]
    assert (customer.email, customer.name, customer.origin) == (
        "erin@example.com",
        "Erin",
        "legacy-monolith",
    )
    assert created.subscription.customer_id == "erin"


async def test_a_registration_billing_already_knows_changes_nothing(
    billing: Billing, store: FakeStore
) -> None:
    await billing.add_customer(
        AddCustomer("erin", "erin@example.com", "Erin", NOW, "legacy-monolith")
    )
    before = store.snapshot()

    await billing.add_customer(AddCustomer("erin", "other@example.com", "Other", NOW, "backfill"))

    assert store.snapshot() == before


DOMAIN_EVENTS = [
    events.SubscriptionStarted("sub", "usr", "pro", NOW, NOW, NOW),
    events.SubscriptionCancelled("sub", "usr", NOW, ("inv-1", "inv-2")),
    events.InvoiceIssued("inv", "sub", "usr", 2900, "eur", NOW, NOW, NOW),
    events.PaymentSucceeded("pay", "inv", "sub", "usr", 2900, "eur", "ch_1", NOW),
    events.PaymentFailed("pay", "inv", "sub", "usr", 2900, "eur", "generic_decline", "no", NOW),
    events.RefundIssued("ref", "inv", "pay", "sub", "usr", 900, "eur", 900, NOW),
]


@pytest.mark.parametrize("event", DOMAIN_EVENTS, ids=lambda event: type(event).__name__)
def test_every_domain_event_is_published_as_the_contract_event_of_its_name(
    event: events.DomainEvent,
) -> None:
    published = contract_event(event)

    assert type(published).__name__ == type(event).__name__
    assert isinstance(published, contract.IntegrationEvent)
    expected = {
        ("user_id" if name == "customer_id" else name): value
        for name, value in dataclasses.asdict(event).items()
    }
    if "voided_invoice_ids" in expected:
        expected["voided_invoice_ids"] = list(expected["voided_invoice_ids"])
    assert published.model_dump(exclude_unset=True) == expected
    assert published.aggregate_id() == "usr"  # keyed by customer: their history in order
