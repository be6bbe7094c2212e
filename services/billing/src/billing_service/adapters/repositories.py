"""The repositories on SQLAlchemy: queries by table columns, new records kept until commit.

New records are handed to the session by the unit of work when it commits, table by table
in foreign-key order (customers before subscriptions before invoices ...): without
``relationship()``s the session would not know that order by itself.
"""

from __future__ import annotations

import functools
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, bindparam, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from strangler_contracts.payments import REJECTED_BY_PROVIDER
from strangler_persistence import paginate

from billing_service.adapters.orm import (
    customers,
    invoices,
    payments,
    plans,
    refunds,
    subscriptions,
)
from billing_service.domain.customers import Customer
from billing_service.domain.invoices import Invoice
from billing_service.domain.payments import Payment
from billing_service.domain.plans import Plan
from billing_service.domain.refunds import Refund
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer.repositories import Slice

__all__ = [
    "SqlCustomers",
    "SqlInvoices",
    "SqlPayments",
    "SqlPlans",
    "SqlRefunds",
    "SqlRepository",
    "SqlSubscriptions",
    "read_for_payment",
    "read_together",
]

T = TypeVar("T")


class SqlRepository(Generic[T]):
    def __init__(self, session: AsyncSession, kind: type[T]) -> None:
        self.session = session
        self.kind = kind
        self.added: list[T] = []

    def add(self, item: T) -> None:
        self.added.append(item)

    async def get(self, identifier: str) -> T | None:
        return await self.session.get(self.kind, identifier)

    async def attach(self, item: T) -> T:
        """``item`` as an earlier session committed it, in this session without a read: its
        ``version`` fences the next write, so a change made meanwhile makes it conflict."""
        return await self.session.merge(item, load=False)


_CURRENT = ("active", "pending")
"""The statuses of the subscription that keeps its customer from another one."""


@functools.cache
def read_together(wanted: tuple[str, ...]) -> Select[Any]:
    """One statement for ``UnitOfWork.read``: each record ``wanted`` (``Found``'s field
    names) outer-joined by its id to a one-row anchor, so a missing one is a NULL, not a
    missing row, and the others still come. Built once per combination (statements built
    per call cost SQLAlchemy their cache key each time); its parameters are the ids, each
    under its field's name."""
    current = subscriptions.alias("current_subscriptions")
    sources: dict[str, tuple[Any, Any]] = {
        "customer": (Customer, customers.c.id == bindparam("customer")),
        "plan": (Plan, plans.c.id == bindparam("plan")),
        "subscription": (Subscription, subscriptions.c.id == bindparam("subscription")),
        "invoice": (Invoice, invoices.c.id == bindparam("invoice")),
        "current_subscription": (
            aliased(Subscription, current),
            (current.c.customer_id == bindparam("current_subscription"))
            & current.c.status.in_(_CURRENT),
        ),
    }
    anchor = select(literal_column("1").label("one")).subquery("anchor")
    statement = select(*(sources[name][0] for name in wanted)).select_from(anchor)
    for name in wanted:
        entity, condition = sources[name]
        statement = statement.outerjoin(entity, condition)
    return statement


@functools.cache
def read_for_payment() -> Select[Invoice, Payment]:
    """One statement for ``UnitOfWork.read_for_payment``: the invoice outer-joined to the
    payments a claim looks at — the invoice's own (its declined attempts and its next one)
    and the customer's under the key — one row per payment, or one with no payment."""
    anchor = select(literal_column("1").label("one")).subquery("anchor")
    return (
        select(Invoice, Payment)
        .select_from(anchor)
        .outerjoin(Invoice, invoices.c.id == bindparam("invoice_id"))
        .outerjoin(
            Payment,
            or_(
                payments.c.invoice_id == bindparam("invoice_id"),
                and_(
                    payments.c.customer_id == bindparam("customer_id"),
                    payments.c.idempotency_key == bindparam("idempotency_key"),
                ),
            ),
        )
    )


class SqlCustomers(SqlRepository[Customer]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, Customer)


@functools.cache
def _active_plans() -> Select[Plan]:
    """The public catalogue's statement, built once (``paginate`` keeps its paged form); on
    first use, since ``Plan`` is mapped when the process starts, not when this is imported."""
    return select(Plan).where(plans.c.active).order_by(plans.c.price_cents, plans.c.id)


class SqlPlans(SqlRepository[Plan]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, Plan)

    async def active(self, limit: int, offset: int) -> Slice[Plan]:
        return await paginate(self.session, _active_plans(), limit, offset)


class SqlSubscriptions(SqlRepository[Subscription]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, Subscription)

    async def active_for(self, customer_id: str) -> Subscription | None:
        """The customer's active subscription, or the pending one a checkout is paying for."""
        return await self.session.scalar(
            select(Subscription).where(
                subscriptions.c.customer_id == customer_id,
                subscriptions.c.status.in_(_CURRENT),
            )
        )

    async def of_customer(self, customer_id: str, limit: int, offset: int) -> Slice[Subscription]:
        statement = (
            select(Subscription)
            .where(subscriptions.c.customer_id == customer_id)
            .order_by(subscriptions.c.created_at.desc(), subscriptions.c.id)
        )
        return await paginate(self.session, statement, limit, offset)


class SqlInvoices(SqlRepository[Invoice]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, Invoice)

    async def open_of_subscription(self, subscription_id: str) -> list[Invoice]:
        rows = await self.session.scalars(
            select(Invoice).where(
                invoices.c.subscription_id == subscription_id, invoices.c.status == "open"
            )
        )
        return list(rows)

    async def of_customer(self, customer_id: str, limit: int, offset: int) -> Slice[Invoice]:
        statement = (
            select(Invoice)
            .where(invoices.c.customer_id == customer_id)
            .order_by(invoices.c.issued_at.desc(), invoices.c.id)
        )
        return await paginate(self.session, statement, limit, offset)


class SqlPayments(SqlRepository[Payment]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, Payment)

    async def by_key(self, customer_id: str, idempotency_key: str) -> Payment | None:
        return await self.session.scalar(
            select(Payment).where(
                payments.c.customer_id == customer_id,
                payments.c.idempotency_key == idempotency_key,
            )
        )

    async def succeeded_for(self, invoice_id: str) -> Payment | None:
        return await self.session.scalar(
            select(Payment).where(
                payments.c.invoice_id == invoice_id, payments.c.status == "succeeded"
            )
        )

    async def declined_attempts(self, invoice_id: str) -> int:
        declined = await self.session.scalar(
            select(func.count())
            .select_from(payments)
            .where(
                payments.c.invoice_id == invoice_id,
                payments.c.status == "failed",
                payments.c.failure_code.is_distinct_from(REJECTED_BY_PROVIDER),
            )
        )
        return declined or 0


class SqlRefunds(SqlRepository[Refund]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, Refund)

    async def by_key(self, invoice_id: str, idempotency_key: str) -> Refund | None:
        return await self.session.scalar(
            select(Refund).where(
                refunds.c.invoice_id == invoice_id, refunds.c.idempotency_key == idempotency_key
            )
        )
