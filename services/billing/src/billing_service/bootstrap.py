"""The composition root: the service layer with real adapters, or with the fakes a test gives."""

from __future__ import annotations

from datetime import timedelta

from strangler_persistence import SessionFactory, utcnow
from strangler_sagas import (
    InMemorySagaStore,
    OrchestratorSettings,
    SagaOrchestrator,
    SagaStore,
    SqlSagaStore,
)

from billing_service.adapters.orm import sagas as saga_tables
from billing_service.adapters.orm import start_mappers
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.adapters.unit_of_work import SqlAlchemyUnitOfWork
from billing_service.service_layer.billing import Billing
from billing_service.service_layer.checkout import CheckoutPolicy, CheckoutSteps, checkout_saga
from billing_service.service_layer.handlers import Clock, PaymentPolicy
from billing_service.service_layer.payment_provider import PaymentProvider
from billing_service.service_layer.unit_of_work import UnitOfWorkFactory
from billing_service.settings import BillingSettings

__all__ = ["bootstrap"]


def bootstrap(
    settings: BillingSettings,
    sessions: SessionFactory | None = None,
    *,
    unit_of_work: UnitOfWorkFactory | None = None,
    payments: PaymentProvider | None = None,
    clock: Clock = utcnow,
    saga_store: SagaStore | None = None,
) -> Billing:
    """Billing on the database behind ``sessions``, or on ``unit_of_work`` (a fake) instead.

    Sagas are kept next to billing's tables, or in ``saga_store`` (in memory, when billing
    runs on a fake unit of work and none is given). Connects to nothing: sessions open when
    a unit of work starts, the provider's client on its first request.
    """
    if unit_of_work is None:
        if sessions is None:
            raise ValueError("bootstrap needs the database's sessions or a unit_of_work")
        start_mappers()
        database = sessions

        def unit_of_work() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(database)

    provider = payments or PaymentSimulatorClient(
        settings.payment_provider_url, settings.payment_timeout_seconds
    )
    if saga_store is None:
        saga_store = (
            SqlSagaStore(sessions, saga_tables) if sessions is not None else InMemorySagaStore()
        )
    checkout = CheckoutPolicy(
        provider_timeout=timedelta(seconds=settings.checkout_payment_timeout_seconds),
        refund_timeout=timedelta(seconds=settings.payment_timeout_seconds),
        charge_attempts=settings.checkout_charge_attempts,
        compensation_attempts=settings.checkout_compensation_attempts,
        first_retry_seconds=settings.checkout_retry_seconds,
    )
    sagas = SagaOrchestrator(
        saga_store,
        [checkout_saga(CheckoutSteps(unit_of_work, provider, clock, checkout), checkout)],
        settings=OrchestratorSettings(
            poll_seconds=settings.saga_poll_seconds, lease_seconds=settings.saga_lease_seconds
        ),
        clock=clock,
    )
    return Billing(
        unit_of_work=unit_of_work,
        payments=provider,
        clock=clock,
        payment_policy=PaymentPolicy(timedelta(seconds=settings.payment_timeout_seconds)),
        sagas=sagas,
    )
