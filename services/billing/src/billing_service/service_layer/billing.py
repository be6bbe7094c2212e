"""Billing as its entrypoints see it: every use case, with its dependencies bound once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from strangler_sagas import SagaOrchestrator, SagaView, Started

from billing_service.domain.commands import (
    AddCustomer,
    CancelSubscription,
    Checkout,
    PayInvoice,
    RefundInvoice,
    Subscribe,
)
from billing_service.domain.invoices import Invoice
from billing_service.domain.plans import Plan
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer import account_closure, checkout, handlers
from billing_service.service_layer.handlers import (
    Clock,
    PaymentOutcome,
    PaymentPolicy,
    RefundOutcome,
    Subscribed,
)
from billing_service.service_layer.payment_provider import PaymentProvider
from billing_service.service_layer.repositories import Slice
from billing_service.service_layer.unit_of_work import UnitOfWorkFactory

__all__ = ["Billing"]


@dataclass(frozen=True)
class Billing:
    """Built by ``bootstrap``: real adapters by default, fakes in unit tests."""

    unit_of_work: UnitOfWorkFactory
    payments: PaymentProvider
    clock: Clock
    payment_policy: PaymentPolicy
    sagas: SagaOrchestrator
    """Drives the checkout saga (``service_layer/checkout.py``) and billing's part of account
    closures (``service_layer/account_closure.py``); run in the app's lifespan."""
    checkout_standing: checkout.CheckoutStandingReader | None = None
    """What a checkout's POST checks, read on the query side; None: by the unit of work."""

    async def start_checkout(self, command: Checkout) -> checkout.CheckoutStarted:
        return await checkout.start_checkout(
            command, self.unit_of_work(), self.sagas, self.checkout_standing
        )

    async def checkout(self, customer_id: str, checkout_id: str) -> SagaView:
        return await checkout.checkout_of(customer_id, checkout_id, self.sagas)

    async def start_account_closure(
        self, *, closure_id: str, customer_id: str, requested_at: datetime, attempt: int = 1
    ) -> Started:
        """Billing's part of closing an account (``service_layer/account_closure.py``)."""
        return await account_closure.start_account_closure(
            self.sagas,
            closure_id=closure_id,
            customer_id=customer_id,
            requested_at=requested_at,
            attempt=attempt,
        )

    async def add_customer(self, command: AddCustomer) -> None:
        await handlers.add_customer(command, self.unit_of_work())

    async def subscribe(self, command: Subscribe) -> Subscribed:
        return await handlers.subscribe(command, self.unit_of_work(), self.clock)

    async def cancel_subscription(self, command: CancelSubscription) -> Subscription:
        return await handlers.cancel_subscription(command, self.unit_of_work(), self.clock)

    async def pay_invoice(self, command: PayInvoice) -> PaymentOutcome:
        return await handlers.pay_invoice(
            command, self.unit_of_work, self.payments, self.clock, self.payment_policy
        )

    async def refund_invoice(self, command: RefundInvoice) -> RefundOutcome:
        return await handlers.refund_invoice(command, self.unit_of_work, self.payments, self.clock)

    async def plans(self, limit: int, offset: int) -> Slice[Plan]:
        async with self.unit_of_work() as uow:
            return await uow.plans.active(limit, offset)

    async def subscriptions(self, customer_id: str, limit: int, offset: int) -> Slice[Subscription]:
        async with self.unit_of_work() as uow:
            return await uow.subscriptions.of_customer(customer_id, limit, offset)

    async def subscription(self, customer_id: str, subscription_id: str) -> Subscription:
        async with self.unit_of_work() as uow:
            return await handlers.owned_subscription(uow, customer_id, subscription_id)

    async def invoices(self, customer_id: str, limit: int, offset: int) -> Slice[Invoice]:
        async with self.unit_of_work() as uow:
            return await uow.invoices.of_customer(customer_id, limit, offset)

    async def invoice(self, customer_id: str, invoice_id: str) -> Invoice:
        async with self.unit_of_work() as uow:
            return await handlers.owned_invoice(uow, customer_id, invoice_id)

    async def aclose(self) -> None:
        await self.payments.aclose()
