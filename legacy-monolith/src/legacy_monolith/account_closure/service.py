"""The accounts side of an account closure: ask for it, follow the answers, erase the account.

Every answer is applied in the consumer's transaction, by closure id, so an answer heard
twice changes nothing. The account is erased once, in the transaction that records
``AccountClosed``: its address and name are replaced by placeholders, its password by a
hash that verifies nothing, and ``password_changed_at`` moves to now, so every token issued
before is refused; the monolith's copies of the user's mails and mail preferences go too.
The row itself stays: billing's history refers to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import (
    AccountClosed,
    AccountClosureRefundDeclined,
    AccountClosureRequested,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
)
from strangler_contracts.events.account_closure import erased_email
from strangler_eventing.correlation import correlation_id, use_correlation_id

from legacy_monolith import events
from legacy_monolith.database import utcnow
from legacy_monolith.models import (
    AccountClosure,
    Notification,
    NotificationPreferences,
    User,
    new_id,
)

__all__ = [
    "ERASED_NAME",
    "ERASED_PASSWORD_HASH",
    "ClosureStatus",
    "billing_closed",
    "closure_of",
    "farewell_sent",
    "refund_declined",
    "request_closure",
]

ClosureStatus = Literal["requested", "paused", "closed"]
ERASED_NAME: Final = "Closed account"
ERASED_PASSWORD_HASH: Final = "!erased"  # noqa: S105 (a placeholder, not a secret)
"""In no hashing scheme: it verifies no password (``PasswordHashing.verify``)."""


@contextmanager
def _correlated(closure_id: str) -> Iterator[None]:
    """Events recorded inside carry the closure's id as their correlation id."""
    previous = correlation_id()
    use_correlation_id(closure_id)
    try:
        yield
    finally:
        use_correlation_id(previous)


async def closure_of(session: AsyncSession, user: User) -> AccountClosure | None:
    return await session.scalar(select(AccountClosure).where(AccountClosure.user_id == user.id))


async def request_closure(session: AsyncSession, user: User) -> AccountClosure:
    """Start closing ``user``'s account, once: asking again answers the closure under way."""
    existing = await closure_of(session, user)
    if existing is not None:
        return existing
    now = utcnow()
    closure = AccountClosure(
        id=new_id(), user_id=user.id, status="requested", requested_at=now, updated_at=now
    )
    session.add(closure)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent request started it first
        await session.rollback()
        started = await closure_of(session, user)
        if started is None:
            raise
        return started
    request = AccountClosureRequested(
        closure_id=closure.id,
        user_id=user.id,
        email=user.email,
        display_name=user.name,
        requested_at=now,
    )
    with _correlated(closure.id):
        await events.record(session, request)
    await session.commit()
    return closure


async def billing_closed(session: AsyncSession, answer: BillingClosedForAccount) -> None:
    closure = await session.get(AccountClosure, answer.closure_id)
    if closure is None:
        return  # started by another side: not ours to follow
    closure.billing = "done"
    closure.refunded_cents = answer.refunded_cents
    closure.currency = answer.currency
    if closure.status == "paused":
        closure.status = "requested"
    await _close_once_everyone_confirmed(session, closure, answer.closed_at)


async def refund_declined(session: AsyncSession, answer: AccountClosureRefundDeclined) -> None:
    closure = await session.get(AccountClosure, answer.closure_id)
    if closure is None or closure.status == "closed":
        return
    closure.billing = "declined"
    closure.status = "paused"
    closure.declined_reason = answer.reason
    closure.updated_at = answer.declined_at


async def farewell_sent(session: AsyncSession, answer: FarewellSentAndDataErased) -> None:
    closure = await session.get(AccountClosure, answer.closure_id)
    if closure is None:
        return
    closure.notifications = "done"
    await _close_once_everyone_confirmed(session, closure, answer.erased_at)


async def _close_once_everyone_confirmed(
    session: AsyncSession, closure: AccountClosure, answered_at: datetime
) -> None:
    closure.updated_at = max(closure.updated_at, answered_at)
    if closure.status == "closed" or (closure.billing, closure.notifications) != ("done", "done"):
        return
    now = utcnow()
    user = await session.get(User, closure.user_id)
    if user is not None:
        await _erase(session, user, now)
    closure.status = "closed"
    closure.closed_at = now
    await events.record(
        session, AccountClosed(closure_id=closure.id, user_id=closure.user_id, closed_at=now)
    )


async def _erase(session: AsyncSession, user: User, now: datetime) -> None:
    """The credentials and the profile, replaced; the monolith's copies of mails, deleted."""
    placeholder = erased_email(user.id)
    user.email = user.email_key = placeholder
    user.name = ERASED_NAME
    user.password_hash = ERASED_PASSWORD_HASH
    user.password_changed_at = now
    await session.execute(delete(Notification).where(Notification.user_id == user.id))
    await session.execute(
        delete(NotificationPreferences).where(NotificationPreferences.user_id == user.id)
    )
    await session.flush()  # counts the record's version
    await events.record(session, events.user_profile_changed(user, now))
    await events.record(session, events.account_changed(user, "profile-changed"))
