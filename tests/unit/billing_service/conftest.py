"""Billing built by its composition root with fakes: a store in memory, a fake provider and a
clock that moves only when told. Nothing here touches a database or the network."""

from __future__ import annotations

from datetime import timedelta

import pytest
from billing_service.bootstrap import bootstrap
from billing_service.domain.customers import Customer
from billing_service.service_layer.billing import Billing
from billing_service.service_layer.catalogue import plan_catalogue
from billing_service.settings import BillingSettings

from tests.support.operator import OPERATOR_TOKEN
from tests.unit.billing_service.fakes import (
    FakeClock,
    FakePaymentProvider,
    FakeStore,
    FakeUnitOfWork,
)

PROVIDER_TIMEOUT = timedelta(seconds=10)


@pytest.fixture
def store() -> FakeStore:
    """The plan catalogue and one customer, ``ada``."""
    store = FakeStore(plans={plan.id: plan for plan in plan_catalogue()})
    ada = Customer(
        id="ada", email="ada@example.com", name="Ada", registered_at=FakeClock().now, origin="tests"
    )
    store.customers[ada.id] = ada
    return store


@pytest.fixture
def payments() -> FakePaymentProvider:
    return FakePaymentProvider()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def billing(store: FakeStore, payments: FakePaymentProvider, clock: FakeClock) -> Billing:
    settings = BillingSettings(
        jwt_secret="unit-test-secret-with-32-bytes-min!!",
        operator_token=OPERATOR_TOKEN,
        payment_timeout_seconds=PROVIDER_TIMEOUT.total_seconds(),
    )
    return bootstrap(
        settings, unit_of_work=lambda: FakeUnitOfWork(store), payments=payments, clock=clock
    )
