"""How the service layer finds and keeps aggregates: the ports the adapters implement.

Lists answer one page and the total: ``(items, total)``.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from billing_service.domain.customers import Customer
from billing_service.domain.invoices import Invoice
from billing_service.domain.payments import Payment
from billing_service.domain.plans import Plan
from billing_service.domain.refunds import Refund
from billing_service.domain.subscriptions import Subscription

__all__ = [
    "CustomerRepository",
    "InvoiceRepository",
    "PaymentRepository",
    "PlanRepository",
    "RefundRepository",
    "Slice",
    "SubscriptionRepository",
]

T = TypeVar("T")
Slice = tuple[list[T], int]


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> None: ...
    async def get(self, customer_id: str) -> Customer | None: ...


class PlanRepository(Protocol):
    def add(self, plan: Plan) -> None: ...
    async def get(self, plan_id: str) -> Plan | None: ...
    async def active(self, limit: int, offset: int) -> Slice[Plan]:
        """Cheapest first."""
        ...


class SubscriptionRepository(Protocol):
    def add(self, subscription: Subscription) -> None: ...
    async def get(self, subscription_id: str) -> Subscription | None: ...
    async def active_for(self, customer_id: str) -> Subscription | None:
        """Active or pending: the subscription that keeps the customer from another one."""
        ...

    async def of_customer(self, customer_id: str, limit: int, offset: int) -> Slice[Subscription]:
        """Newest first."""
        ...


class InvoiceRepository(Protocol):
    def add(self, invoice: Invoice) -> None: ...
    async def get(self, invoice_id: str) -> Invoice | None: ...
    async def attach(self, invoice: Invoice) -> Invoice:
        """The invoice as an earlier unit of work committed it, in this one without reading
        it again; changed meanwhile by someone else, this unit's commit conflicts."""
        ...

    async def open_of_subscription(self, subscription_id: str) -> list[Invoice]: ...
    async def of_customer(self, customer_id: str, limit: int, offset: int) -> Slice[Invoice]:
        """Newest first."""
        ...


class PaymentRepository(Protocol):
    def add(self, payment: Payment) -> None: ...
    async def get(self, payment_id: str) -> Payment | None: ...
    async def attach(self, payment: Payment) -> Payment:
        """Like ``InvoiceRepository.attach``."""
        ...

    async def by_key(self, customer_id: str, idempotency_key: str) -> Payment | None: ...
    async def succeeded_for(self, invoice_id: str) -> Payment | None: ...
    async def declined_attempts(self, invoice_id: str) -> int:
        """How many attempts of the invoice the provider declined
        (``strangler_contracts.payments.counts_as_declined``)."""
        ...


class RefundRepository(Protocol):
    def add(self, refund: Refund) -> None: ...
    async def by_key(self, invoice_id: str, idempotency_key: str) -> Refund | None: ...
