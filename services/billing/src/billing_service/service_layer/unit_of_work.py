"""The unit of work: one transaction, its repositories, and the events its aggregates recorded.

``commit`` hands every event recorded since the last commit to ``_record`` (the outbox, in
the same transaction) and then commits, so an event exists exactly when its change does.
Leaving the block without committing rolls everything back.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self

from billing_service.domain.events import DomainEvent
from billing_service.domain.records import Aggregate
from billing_service.service_layer.repositories import (
    CustomerRepository,
    InvoiceRepository,
    PaymentRepository,
    PlanRepository,
    RefundRepository,
    SubscriptionRepository,
)

__all__ = ["ConflictingWrite", "JoinedUnitOfWorkFactory", "UnitOfWork", "UnitOfWorkFactory"]


class ConflictingWrite(Exception):
    """The database refused the commit: a concurrent transaction changed or created the same
    thing first (an outdated version, or a unique rule). Nothing of this unit was written."""


class UnitOfWork(abc.ABC):
    customers: CustomerRepository
    plans: PlanRepository
    subscriptions: SubscriptionRepository
    invoices: InvoiceRepository
    payments: PaymentRepository
    refunds: RefundRepository

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
