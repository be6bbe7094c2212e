"""The monolith's accounts side of an account closure, on ``strangler_closures``: the closures
in ``account_closures``, events through the monolith's outbox, and the erase of a ``users`` row.

The account is erased once, in the transaction that records ``AccountClosed``: its address
and name are replaced by placeholders, its password by a hash that verifies nothing, and
``password_changed_at`` moves to now, so every token issued before is refused. The
monolith's copies of the user's mails and mail preferences go when notifications says it
erased its own, whoever started the closure (the monolith or auth). The row itself stays:
billing's history refers to it. The changed record is published as every change of it is
(``UserAccountChanged``), so the two-way sync erases the account at auth too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_closures import (
    ERASED_NAME,
    ERASED_PASSWORD_HASH,
    AccountsSide,
    Closure,
    erased_email,
)

from legacy_monolith import events
from legacy_monolith.database import utcnow
from legacy_monolith.models import AccountClosure, Notification, NotificationPreferences, User

__all__ = ["ACCOUNTS_SIDE", "closure_of", "request_closure", "resume_closure"]


async def _forget_mails(session: AsyncSession, user_id: str) -> None:
    """The monolith's copies of the user's mails and mail preferences, deleted once
    notifications erased its own — whichever side plays the accounts part of the closure."""
    await session.execute(delete(Notification).where(Notification.user_id == user_id))
    await session.execute(
        delete(NotificationPreferences).where(NotificationPreferences.user_id == user_id)
    )


async def _erase(session: AsyncSession, user_id: str, now: datetime) -> None:
    """The credentials and the profile, replaced."""
    user = await session.get(User, user_id)
    if user is None:
        return
    placeholder = erased_email(user.id)
    user.email = user.email_key = placeholder
    user.name = ERASED_NAME
    user.password_hash = ERASED_PASSWORD_HASH
    user.password_changed_at = now
    await session.flush()  # counts the record's version
    await events.record(session, events.user_profile_changed(user, now))
    await events.record(session, events.account_changed(user, "profile-changed"))


ACCOUNTS_SIDE: Final = AccountsSide(
    table=AccountClosure.__table__,  # type: ignore[arg-type]
    record=events.record,
    erase=_erase,
    clock=utcnow,
    forget=_forget_mails,
)


async def closure_of(session: AsyncSession, user: User) -> Closure | None:
    return await ACCOUNTS_SIDE.closure_of(session, user.id)


async def request_closure(session: AsyncSession, user: User) -> Closure:
    """Start closing ``user``'s account, once: asking again answers the closure under way."""
    closure = await ACCOUNTS_SIDE.request(
        session, user_id=user.id, email=user.email, display_name=user.name
    )
    await session.commit()
    return closure


async def resume_closure(session: AsyncSession, user: User) -> Closure | None:
    """Take ``user``'s paused closure up again (billing retries the refund); a closure that
    is not paused is answered as it is, None when the account never asked to be closed."""
    closure = await ACCOUNTS_SIDE.resume(
        session, user_id=user.id, email=user.email, display_name=user.name
    )
    await session.commit()
    return closure
