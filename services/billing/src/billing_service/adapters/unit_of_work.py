"""The unit of work on one SQLAlchemy session: a transaction, its repositories, its outbox rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from strangler_contracts.payments import counts_as_declined, next_attempt, payment_attempt_id
from strangler_persistence import SessionFactory

from billing_service.adapters import events as outbox
from billing_service.adapters.repositories import (
    SqlCustomers,
    SqlInvoices,
    SqlPayments,
    SqlPlans,
    SqlRefunds,
    SqlSubscriptions,
    read_for_payment,
    read_together,
)
from billing_service.domain.events import DomainEvent
from billing_service.domain.invoices import Invoice
from billing_service.domain.records import Aggregate
from billing_service.service_layer.unit_of_work import (
    ConflictingWrite,
    Found,
    FoundForPayment,
    UnitOfWork,
)

__all__ = ["JoinedUnitOfWork", "SqlAlchemyUnitOfWork"]


@contextmanager
def _refusals_are_conflicts() -> Iterator[None]:
    try:
        yield
    except (IntegrityError, StaleDataError) as exc:
        raise ConflictingWrite(str(exc).splitlines()[0]) from exc


class _SessionUnitOfWork(UnitOfWork):
    session: AsyncSession

    def _use(self, session: AsyncSession) -> None:
        self.session = session
        self.customers = self._customers = SqlCustomers(session)
        self.plans = self._plans = SqlPlans(session)
        self.subscriptions = self._subscriptions = SqlSubscriptions(session)
        self.invoices = self._invoices = SqlInvoices(session)
        self.payments = self._payments = SqlPayments(session)
        self.refunds = self._refunds = SqlRefunds(session)

    async def _read(self, asked: Mapping[str, str]) -> Found:
        """One statement (``read_together``); what it loads is in this session's identity
        map, so a later ``get`` of the same record costs no round trip either."""
        row = (await self.session.execute(read_together(tuple(asked)), dict(asked))).one()
        return Found(**dict(zip(asked, row, strict=True)))

    async def read_for_payment(
        self, invoice_id: str, customer_id: str, idempotency_key: str
    ) -> FoundForPayment:
        """One statement (``read_for_payment``): the invoice with every payment a claim
        looks at; the count of declined attempts and the next one are worked out here."""
        parameters = {
            "invoice_id": invoice_id,
            "customer_id": customer_id,
            "idempotency_key": idempotency_key,
        }
        rows = (await self.session.execute(read_for_payment(), parameters)).all()
        invoice: Invoice | None = rows[0][0]  # NULL: outer-joined to the anchor
        found = [payment for _, payment in rows if payment is not None]
        by_key = next(
            (
                payment
                for payment in found
                if payment.customer_id == customer_id and payment.idempotency_key == idempotency_key
            ),
            None,
        )
        if invoice is None:
            return FoundForPayment(None, by_key, None, None)
        declined = sum(
            counts_as_declined(payment.status, payment.failure_code)
            for payment in found
            if payment.invoice_id == invoice.id
        )
        attempt = payment_attempt_id(invoice.id, next_attempt(declined))
        stored = next((payment for payment in found if payment.id == attempt), None)
        return FoundForPayment(invoice, by_key, attempt, stored)

    def _aggregates(self) -> Iterable[Aggregate]:
        added: list[Aggregate] = [*self._subscriptions.added, *self._invoices.added]
        loaded = [
            item
            for item in self.session.identity_map.values()
            if isinstance(item, Aggregate) and item not in added
        ]
        return [*added, *loaded]

    async def _record(self, events: list[DomainEvent]) -> None:
        """New records table by table, in foreign-key order (a flush per table that has
        some; changes to loaded records go with the first, or alone when nothing is new);
        then the events, which read the versions those flushes counted. A flush per table
        whether it had anything or not cost each commit five idle flushes."""
        with _refusals_are_conflicts():
            for repository in (
                self._customers,
                self._plans,
                self._subscriptions,
                self._invoices,
                self._payments,
                self._refunds,
            ):
                if repository.added:
                    self.session.add_all(repository.added)
                    repository.added.clear()
                    await self.session.flush()
            if self.session.dirty:
                await self.session.flush()
            for event in events:
                await outbox.record(self.session, event)


class SqlAlchemyUnitOfWork(_SessionUnitOfWork):
    """A transaction of its own, on a new session for every ``async with``."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self._use(self._sessions())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Closing rolls back whatever was not committed, and keeps what was loaded readable
        (a rollback would expire it): the entrypoints answer from those objects."""
        await self.session.close()

    async def _commit(self) -> None:
        with _refusals_are_conflicts():
            await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class JoinedUnitOfWork(_SessionUnitOfWork):
    """Part of a transaction someone else owns, such as the idempotent consumer's, which
    commits the handler's effects together with its "processed" marker.

    ``commit`` writes the changes and their outbox rows into that transaction; the owner
    commits it, or rolls it back when the handler raises.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._use(session)

    async def _commit(self) -> None:
        with _refusals_are_conflicts():
            await self.session.flush()

    async def rollback(self) -> None:
        return None
