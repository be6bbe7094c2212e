"""The checkout saga through the composition root, on fakes: what each ending leaves in
billing's records and events, a process dying mid-charge, and two checkouts racing."""

from __future__ import annotations

from typing import Any

import pytest
from billing_service.bootstrap import bootstrap
from billing_service.domain import events
from billing_service.domain.commands import CancelSubscription, Checkout, Subscribe
from billing_service.domain.errors import AlreadySubscribed, SubscriptionNotActive
from billing_service.service_layer.billing import Billing
from billing_service.service_layer.payment_provider import Charge
from billing_service.settings import BillingSettings
from strangler_sagas import SagaStatus

from tests.support.operator import OPERATOR_TOKEN
from tests.unit.billing_service.fakes import (
    DECLINED_CARD,
    GOOD_CARD,
    FakeClock,
    FakePaymentProvider,
    FakeStore,
    FakeUnitOfWork,
    ProcessDied,
)

LEASE_SECONDS = 15.0


class ChargesThenDies(FakePaymentProvider):
    """A provider that charges, while the billing process that asked dies before the answer."""

    def __init__(self) -> None:
        super().__init__()
        self.die_after_next_charge = False

    async def charge(self, **request: Any) -> Charge:
        charge = await super().charge(**request)
        if self.die_after_next_charge:
            self.die_after_next_charge = False
            raise ProcessDied
        return charge


@pytest.fixture
def payments() -> ChargesThenDies:
    return ChargesThenDies()


@pytest.fixture
def billing(store: FakeStore, payments: ChargesThenDies, clock: FakeClock) -> Billing:
    settings = BillingSettings(
        jwt_secret="unit-test-secret-with-32-bytes-min!!",
        operator_token=OPERATOR_TOKEN,
        checkout_retry_seconds=0,
        checkout_charge_attempts=2,
        checkout_compensation_attempts=2,
        saga_lease_seconds=LEASE_SECONDS,
    )
    return bootstrap(
        settings, unit_of_work=lambda: FakeUnitOfWork(store), payments=payments, clock=clock
    )


async def _checked_out(billing: Billing, card: str = GOOD_CARD) -> dict[str, Any]:
    started = await billing.start_checkout(Checkout("ada", "pro", card, "key-1"))
    final = await billing.sagas.drive(started.checkout.summary.id)
    assert final is not None
    return {"status": final.status, **final.data}


def _kinds(store: FakeStore) -> list[str]:
    return [type(event).__name__ for event in store.published]


async def test_a_good_card_ends_with_an_active_subscription_and_a_paid_invoice(
    billing: Billing, store: FakeStore, payments: ChargesThenDies
) -> None:
    checkout = await _checked_out(billing)

    assert checkout["status"] is SagaStatus.COMPLETED
    assert store.subscriptions[checkout["subscription_id"]].status == "active"
    assert store.invoices[checkout["invoice_id"]].status == "paid"
    assert _kinds(store) == [
        "SubscriptionStarted",
        "InvoiceIssued",
        "PaymentSucceeded",
        "SubscriptionActivated",
    ]
    assert len(payments.charged()) == 1
    assert "card_number" not in checkout, "a finished checkout keeps no card number"


async def test_a_declined_card_cancels_the_pending_subscription_and_voids_its_invoice(
    billing: Billing, store: FakeStore
) -> None:
    checkout = await _checked_out(billing, DECLINED_CARD)

    assert checkout["status"] is SagaStatus.COMPENSATED
    assert store.subscriptions[checkout["subscription_id"]].status == "cancelled"
    assert store.invoices[checkout["invoice_id"]].status == "void"
    cancelled = store.published[-1]
    assert isinstance(cancelled, events.SubscriptionCancelled)
    assert cancelled.voided_invoice_ids == (checkout["invoice_id"],)
    assert _kinds(store)[-2:] == ["PaymentFailed", "SubscriptionCancelled"]


async def test_a_process_that_died_after_the_provider_charged_is_resumed_without_a_second_charge(
    billing: Billing, store: FakeStore, payments: ChargesThenDies, clock: FakeClock
) -> None:
    started = await billing.start_checkout(Checkout("ada", "pro", GOOD_CARD, "key-1"))
    payments.die_after_next_charge = True
    with pytest.raises(ProcessDied):
        await billing.sagas.drive(started.checkout.summary.id)
    assert len(payments.charged()) == 1
    assert await billing.sagas.drive(started.checkout.summary.id) is None, "its lease holds"

    clock.advance(LEASE_SECONDS + 1)
    final = await billing.sagas.drive(started.checkout.summary.id)

    assert final is not None
    assert final.status is SagaStatus.COMPLETED
    assert len(payments.charged()) == 1
    assert len({request.key for request in payments.requests}) == 1
    assert len(payments.requests) == 2, "the resumed saga asked again under the same key"
    assert store.invoices[final.data["invoice_id"]].status == "paid"


async def test_of_two_checkouts_racing_one_subscribes_and_the_other_undoes_nothing_of_it(
    billing: Billing, store: FakeStore, payments: ChargesThenDies
) -> None:
    first = await billing.start_checkout(Checkout("ada", "pro", GOOD_CARD, "key-1"))
    second = await billing.start_checkout(Checkout("ada", "business", GOOD_CARD, "key-2"))

    won = await billing.sagas.drive(first.checkout.summary.id)
    lost = await billing.sagas.drive(second.checkout.summary.id)

    assert won is not None
    assert lost is not None
    assert (won.status, lost.status) == (SagaStatus.COMPLETED, SagaStatus.COMPENSATED)
    assert lost.failure is not None
    assert lost.failure.startswith("start-subscription: AlreadySubscribed")
    assert list(store.subscriptions) == [won.data["subscription_id"]]
    assert len(payments.charged()) == 1
    with pytest.raises(AlreadySubscribed):
        await billing.start_checkout(Checkout("ada", "starter", GOOD_CARD, "key-3"))
    with pytest.raises(AlreadySubscribed):
        await billing.subscribe(Subscribe("ada", "starter"))


async def test_a_pending_subscription_blocks_another_and_cannot_be_cancelled_mid_checkout(
    billing: Billing, store: FakeStore, payments: ChargesThenDies, clock: FakeClock
) -> None:
    started = await billing.start_checkout(Checkout("ada", "pro", DECLINED_CARD, "key-1"))
    payments.die_on_next_charge = True
    with pytest.raises(ProcessDied):
        await billing.sagas.drive(started.checkout.summary.id)
    (pending,) = store.subscriptions.values()
    assert pending.status == "pending"

    with pytest.raises(AlreadySubscribed):
        await billing.subscribe(Subscribe("ada", "starter"))
    with pytest.raises(SubscriptionNotActive):
        await billing.cancel_subscription(CancelSubscription("ada", pending.id))

    clock.advance(LEASE_SECONDS + 1)
    final = await billing.sagas.drive(started.checkout.summary.id)
    assert final is not None
    assert final.status is SagaStatus.COMPENSATED
    assert (await billing.subscribe(Subscribe("ada", "starter"))).subscription.is_active
