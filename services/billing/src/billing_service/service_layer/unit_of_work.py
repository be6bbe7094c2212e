"""The unit of work: one transaction, its repositories, and the events its aggregates recorded.

``commit`` hands every event recorded since the last commit to ``_record`` (the outbox, in
the same transaction) and then commits, so an event exists exactly when its change does.
Leaving the block without committing rolls everything back.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from strangler_contracts.payments import next_attempt, payment_attempt_id

from billing_service.domain.customers import Customer
from billing_service.domain.events import DomainEvent
from billing_service.domain.invoices import Invoice
from billing_service.domain.payments import Payment
from billing_service.domain.plans import Plan
from billing_service.domain.records import Aggregate
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer.repositories import (
    CustomerRepository,
    InvoiceRepository,
    PaymentRepository,
    PlanRepository,
    RefundRepository,
    SubscriptionRepository,
)

__all__ = [
    "ConflictingWrite",
    "Found",
    "FoundForPayment",
    "JoinedUnitOfWorkFactory",
    "UnitOfWork",
    "UnitOfWorkFactory",
]


class ConflictingWrite(Exception):
    """The database refused the commit: a concurrent transaction changed or created the same
    thing first (an outdated version, or a unique rule). Nothing of this unit was written."""


@dataclass(frozen=True)
class Found:
    """What ``UnitOfWork.read`` was asked for: each record, or None where there is none."""

    customer: Customer | None = None
    plan: Plan | None = None
    subscription: Subscription | None = None
    invoice: Invoice | None = None
    current_subscription: Subscription | None = None
    """The customer's active or pending one (``SubscriptionRepository.active_for``)."""


@dataclass(frozen=True)
class FoundForPayment:
    """What claiming an invoice for a payment reads (``UnitOfWork.read_for_payment``)."""

    invoice: Invoice | None
    by_key: Payment | None
    """The customer's payment under the request's idempotency key, of whichever invoice."""
    next_attempt_id: str | None
    """The id a new attempt of the invoice gets: after the attempts declined so far."""
    next_attempt: Payment | None
    """The payment already stored under that id (an attempt another request began)."""


class UnitOfWork(abc.ABC):
    customers: CustomerRepository
    plans: PlanRepository
    subscriptions: SubscriptionRepository
    invoices: InvoiceRepository
    payments: PaymentRepository
    refunds: RefundRepository

    async def read(
        self,
        *,
        customer_id: str | None = None,
        plan_id: str | None = None,
        subscription_id: str | None = None,
        invoice_id: str | None = None,
        current_subscription_of: str | None = None,
    ) -> Found:
        """The records a step needs, each by its id (and the current subscription of a
        customer), read together: the database adapter does it in one statement, since on
        a loaded machine each round trip costs more than the Python around it."""
        asked = {
            name: value
            for name, value in (
                ("customer", customer_id),
                ("plan", plan_id),
                ("subscription", subscription_id),
                ("invoice", invoice_id),
                ("current_subscription", current_subscription_of),
            )
            if value is not None
        }
        return await self._read(asked) if asked else Found()

    async def _read(self, asked: Mapping[str, str]) -> Found:
        """``read``: ``asked`` maps ``Found``'s fields to the id each is found by. Here, the
        repositories are asked one by one."""
        finders: dict[str, Callable[[str], Awaitable[Any]]] = {
            "customer": self.customers.get,
            "plan": self.plans.get,
            "subscription": self.subscriptions.get,
            "invoice": self.invoices.get,
            "current_subscription": self.subscriptions.active_for,
        }
        return Found(**{name: await finders[name](value) for name, value in asked.items()})

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        await self._record(self._collect_new_events())
        await self._commit()

    async def read_for_payment(
        self, invoice_id: str, customer_id: str, idempotency_key: str
    ) -> FoundForPayment:
        """The invoice, the payment under the key, and the invoice's next attempt, read
        together: the database adapter reads the invoice and every payment it needs in
        one statement. Here, the repositories are asked one by one."""
        invoice = await self.invoices.get(invoice_id)
        by_key = await self.payments.by_key(customer_id, idempotency_key)
        if invoice is None:
            return FoundForPayment(None, by_key, None, None)
        declined = await self.payments.declined_attempts(invoice.id)
        attempt = payment_attempt_id(invoice.id, next_attempt(declined))
        return FoundForPayment(invoice, by_key, attempt, await self.payments.get(attempt))

    def _collect_new_events(self) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for aggregate in self._aggregates():
            events.extend(aggregate.events)
            aggregate.events = []
        return events

    @abc.abstractmethod
    def _aggregates(self) -> Iterable[Aggregate]:
        """Every aggregate this unit added or loaded, those created first first."""

    @abc.abstractmethod
    async def _record(self, events: list[DomainEvent]) -> None:
        """Keep the events so that they are published if, and only if, the commit succeeds."""

    @abc.abstractmethod
    async def _commit(self) -> None:
        """Make the changes durable; raise ``ConflictingWrite`` when the database refuses them."""

    @abc.abstractmethod
    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
JoinedUnitOfWorkFactory = Callable[[Any], UnitOfWork]
"""A unit of work inside a transaction someone else owns and commits (a saga step's): its
``commit`` writes into that transaction, and leaving it without committing leaves the
transaction to its owner."""
