"""The accounts side of an account closure: ask for it, fold the answers, erase the account.

A closure is a row of the side's ``account_closures`` table. ``request`` writes it once per
account (its ``user_id`` is unique: of concurrent requests one inserts, the others read what
it wrote) and records ``AccountClosureRequested``. Billing answers ``BillingClosedForAccount``
or ``AccountClosureRefundDeclined`` (the closure pauses: nothing is erased); notifications,
once billing is done, ``FarewellSentAndDataErased``. When both said ``done`` the side erases
the credentials and the profile with its own ``Eraser``, in the transaction that records
``AccountClosed``. ``resume`` takes a paused closure up again: the same closure id, its
``attempt`` counted up, ``AccountClosureRequested`` published again for billing to retry the
refund. The caller commits ``request`` and ``resume``; ``apply`` runs in the idempotent
consumer's transaction.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import (
    AccountClosed,
    AccountClosureRefundDeclined,
    AccountClosureRequested,
    BillingClosedForAccount,
    CloudEvent,
    FarewellSentAndDataErased,
    IntegrationEvent,
)
from strangler_contracts.events.account_closure import erased_email
from strangler_eventing import (
    BrokerConfig,
    EventHandler,
    IdempotentConsumer,
    create_producer,
    stop_client,
)
from strangler_eventing.correlation import correlation_id, use_correlation_id
from strangler_persistence import SessionFactory, UTCDateTime, utcnow

__all__ = [
    "ERASED_NAME",
    "ERASED_PASSWORD_HASH",
    "AccountsSide",
    "Closure",
    "ClosureStatus",
    "Eraser",
    "Forgetter",
    "Recorder",
    "account_closures_table",
    "erased_email",
    "fold",
    "follow",
]

ClosureStatus = Literal["requested", "paused", "closed"]
ERASED_NAME: Final = "Closed account"
"""The name a closed account keeps on every side."""
ERASED_PASSWORD_HASH: Final = "!erased"  # noqa: S105 (a placeholder, not a secret)
"""In no hashing scheme: it verifies no password, on either side."""

Answer = BillingClosedForAccount | AccountClosureRefundDeclined | FarewellSentAndDataErased
ANSWERS: Final = (BillingClosedForAccount, AccountClosureRefundDeclined, FarewellSentAndDataErased)

Recorder = Callable[[AsyncSession, IntegrationEvent], Awaitable[None]]
"""Records an event in the side's outbox, in the session's transaction."""
Forgetter = Callable[[AsyncSession, str], Awaitable[None]]
"""Forgets, in the session's transaction, a side's copies of what notifications held about
a user id, once notifications erased it (``FarewellSentAndDataErased``), whoever started the
closure: the monolith keeps copies of the mails while mail moves."""
Eraser = Callable[[AsyncSession, str, datetime], Awaitable[None]]
"""Erases the account of a user id at an instant, in the session's transaction: the address
becomes ``erased_email(user id)``, the name ``ERASED_NAME``, the password hash
``ERASED_PASSWORD_HASH``, every token issued before refused; the side publishes the changed
record as it publishes any change of it, so the two-way sync carries the erase across."""


def account_closures_table(metadata: MetaData, name: str = "account_closures") -> Table:
    """The table a side keeps its closures in: one per account, kept after the erase (no
    foreign key to the users), so an account is never closed twice."""
    return Table(
        name,
        metadata,
        Column("id", String(64), primary_key=True),
        Column("user_id", String(36), nullable=False),
        Column("status", String(20), nullable=False),
        Column("billing", String(20), nullable=True),
        Column("notifications", String(20), nullable=True),
        Column("refunded_cents", Integer, nullable=True),
        Column("currency", String(3), nullable=True),
        Column("declined_reason", Text, nullable=True),
        Column("attempt", Integer, nullable=False, server_default="1"),
        Column("requested_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("closed_at", UTCDateTime(), nullable=True),
        UniqueConstraint("user_id"),
    )


@dataclass(frozen=True)
class Closure:
    """Where closing an account stands: ``requested`` (under way), ``paused`` (billing could
    not refund: ``declined_reason`` says why; ``resume`` asks again) or ``closed``; and each
    participant's answer (``done``, ``declined`` or None while it has not answered)."""

    id: str
    user_id: str
    status: str
    billing: str | None
    notifications: str | None
    refunded_cents: int | None
    currency: str | None
    declined_reason: str | None
    attempt: int
    requested_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def requested(cls, id: str, user_id: str, at: datetime) -> Closure:
        """A closure just asked for: attempt 1, nobody has answered yet."""
        return cls(
            id=id,
            user_id=user_id,
            status="requested",
            billing=None,
            notifications=None,
            refunded_cents=None,
            currency=None,
            declined_reason=None,
            attempt=1,
            requested_at=at,
            updated_at=at,
            closed_at=None,
        )

    @property
    def confirmed(self) -> bool:
        """Billing and notifications both answered ``done``: the account can be erased."""
        return (self.billing, self.notifications) == ("done", "done")


_FIELDS: Final = tuple(field.name for field in dataclasses.fields(Closure))


def fold(closure: Closure, answer: Answer) -> Closure:
    """``closure`` with ``answer`` applied. A closed closure changes no more; a refund
    declined pauses it; billing's ``done`` after a pause (a resumed attempt) takes it up."""
    if closure.status == "closed":
        return closure
    match answer:
        case BillingClosedForAccount():
            return dataclasses.replace(
                closure,
                billing="done",
                refunded_cents=answer.refunded_cents,
                currency=answer.currency,
                declined_reason=None,
                status="requested",
                updated_at=max(closure.updated_at, answer.closed_at),
            )
        case AccountClosureRefundDeclined():
            return dataclasses.replace(
                closure,
                billing="declined",
                status="paused",
                declined_reason=answer.reason,
                updated_at=max(closure.updated_at, answer.declined_at),
            )
        case FarewellSentAndDataErased():
            return dataclasses.replace(
                closure,
                notifications="done",
                updated_at=max(closure.updated_at, answer.erased_at),
            )


@contextmanager
def _correlated(closure_id: str) -> Iterator[None]:
    """Events recorded inside carry the closure's id as their correlation id."""
    previous = correlation_id()
    use_correlation_id(closure_id)
    try:
        yield
    finally:
        use_correlation_id(previous)


@dataclass(frozen=True)
class AccountsSide:
    """One side's part, on its ``table``, its outbox (``record``) and its ``erase``."""

    table: Table
    record: Recorder
    erase: Eraser
    clock: Callable[[], datetime] = utcnow
    forget: Forgetter | None = None

    async def closure_of(self, session: AsyncSession, user_id: str) -> Closure | None:
        row = (
            await session.execute(select(self.table).where(self.table.c.user_id == user_id))
        ).first()
        return None if row is None else self._closure(row._mapping)

    async def request(
        self, session: AsyncSession, *, user_id: str, email: str, display_name: str
    ) -> Closure:
        """Start closing the account of ``user_id``, once: asking again, or at the same time,
        answers the closure under way. The first write of the session's transaction: a
        request that loses the race rolls it back."""
        existing = await self.closure_of(session, user_id)
        if existing is not None:
            return existing
        now = self.clock()
        closure = Closure.requested(str(uuid.uuid4()), user_id, now)
        try:
            await session.execute(insert(self.table).values(dataclasses.asdict(closure)))
        except IntegrityError:  # a concurrent request started it first
            await session.rollback()  # nothing else written yet (a savepoint: not on SQLite)
            started = await self.closure_of(session, user_id)
            if started is None:
                raise
            return started
        await self._ask_billing(session, closure, email, display_name)
        return closure

    async def resume(
        self, session: AsyncSession, *, user_id: str, email: str, display_name: str
    ) -> Closure | None:
        """Take a paused closure up again: billing is asked again (the next ``attempt``).
        A closure that is not paused is answered as it is; None when there is none."""
        closure = await self.closure_of(session, user_id)
        if closure is None or closure.status != "paused":
            return closure
        resumed = dataclasses.replace(
            closure,
            status="requested",
            billing=None,
            declined_reason=None,
            attempt=closure.attempt + 1,
            updated_at=self.clock(),
        )
        taken = await session.execute(
            update(self.table)
            .where(self.table.c.id == closure.id, self.table.c.attempt == closure.attempt)
            .values(self._changes(closure, resumed))
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]  # a concurrent resume won
            return await self.closure_of(session, user_id)
        await self._ask_billing(session, resumed, email, display_name)
        return resumed

    async def apply(
        self, session: AsyncSession, event: IntegrationEvent, envelope: CloudEvent
    ) -> None:
        """A participant's answer, in the consumer's transaction; answers about closures this
        side did not start are not its to follow (but for ``forget``)."""
        if not isinstance(event, ANSWERS):
            return
        if isinstance(event, FarewellSentAndDataErased) and self.forget is not None:
            await self.forget(session, event.user_id)
        row = (
            await session.execute(
                select(self.table).where(self.table.c.id == event.closure_id).with_for_update()
            )
        ).first()
        if row is None:
            return
        closure = self._closure(row._mapping)
        folded = fold(closure, event)
        if folded.status != "closed" and folded.confirmed:
            now = self.clock()
            folded = dataclasses.replace(folded, status="closed", closed_at=now, updated_at=now)
            with _correlated(closure.id):
                await self.erase(session, closure.user_id, now)
                await self.record(
                    session,
                    AccountClosed(closure_id=closure.id, user_id=closure.user_id, closed_at=now),
                )
        changes = self._changes(closure, folded)
        if changes:
            await session.execute(
                update(self.table).where(self.table.c.id == closure.id).values(changes)
            )

    def answers(
        self, broker: BrokerConfig, group: str, sessions: SessionFactory, inbox: Table
    ) -> IdempotentConsumer:
        """The consumer of billing's and notifications' answers, as consumer group ``group``."""
        handlers: dict[type[IntegrationEvent], EventHandler] = dict.fromkeys(ANSWERS, self.apply)
        return IdempotentConsumer(
            broker=broker,
            group_id=group,
            handlers=handlers,
            sessions=sessions,
            inbox=inbox,
            producer=create_producer(broker),
        )

    async def _ask_billing(
        self, session: AsyncSession, closure: Closure, email: str, display_name: str
    ) -> None:
        request = AccountClosureRequested(
            closure_id=closure.id,
            user_id=closure.user_id,
            email=email,
            display_name=display_name,
            requested_at=closure.requested_at,
            attempt=closure.attempt,
        )
        with _correlated(closure.id):
            await self.record(session, request)

    @staticmethod
    def _closure(row: Any) -> Closure:
        return Closure(**{name: row[name] for name in _FIELDS})

    @staticmethod
    def _changes(before: Closure, after: Closure) -> dict[str, Any]:
        return {
            name: getattr(after, name)
            for name in _FIELDS
            if getattr(after, name) != getattr(before, name)
        }


async def follow(consumer: IdempotentConsumer, stop: asyncio.Event) -> None:
    """Run ``consumer`` until ``stop`` is set, its dead-letter producer started around it."""
    await consumer.producer.start()
    try:
        await consumer.run(stop)
    finally:
        await stop_client(consumer.producer)
