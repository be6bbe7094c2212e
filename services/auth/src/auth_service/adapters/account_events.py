"""What happens to an account here, published: the events of every user added or changed in a
unit of work, recorded in the outbox in the same transaction.

Read from the session's change tracking (``watch_account_changes`` notes each user a flush
writes, autoflushes included; ``record_account_changes`` records them before the commit), so
every path that changes a ``User`` through the domain publishes — registration, a password
change, a hash upgraded at login, a new name — and none has to remember to. Each change
publishes the public event others react to (``UserRegistered``, ``PasswordChanged``,
``UserProfileChanged``; a rehash has none: it is the same password) and
``UserAccountChanged``, the whole record for the monolith's copy, after the flush has
counted the record's version. An erase (a closed account: its address is replaced, which
nothing else changes) publishes as the monolith's does, a ``profile-changed`` with the
placeholders, never as a password change: nobody is to be mailed. Changes the sync copies
from the monolith are written below the domain with plain SQL: they are not ``User``
objects of a session, so nothing here publishes them again.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from strangler_contracts import (
    IntegrationEvent,
    PasswordChanged,
    UserAccountChanged,
    UserProfileChanged,
    UserRegistered,
)
from strangler_contracts.events.accounts import AccountChange
from strangler_eventing import Outbox

from auth_service.adapters.orm import outbox
from auth_service.domain.records import AUTH
from auth_service.domain.users import User

__all__ = ["SOURCE", "record_account_changes", "record_event", "watch_account_changes"]

SOURCE: Final = f"/{AUTH}"
_OUTBOX: Final = Outbox(outbox, SOURCE)
_NOTED: Final = "account_changes"


def _changed(user: User, attribute: str) -> bool:
    return bool(inspect(user).attrs[attribute].history.has_changes())


def _changes_of(user: User, new: bool) -> list[AccountChange]:
    if new:
        return ["registered"]
    if _changed(user, "email"):  # erased: the account was closed
        return ["profile-changed"]
    changes: list[AccountChange] = []
    if _changed(user, "password_changed_at"):
        changes.append("password-changed")
    elif _changed(user, "password_hash"):
        changes.append("password-rehashed")
    if _changed(user, "name"):
        changes.append("profile-changed")
    return changes


def _public(user: User, change: AccountChange) -> IntegrationEvent | None:
    if change == "registered":
        return UserRegistered(
            user_id=user.id,
            email=user.email,
            display_name=user.name,
            registered_at=user.created_at,
            origin=AUTH,
        )
    if change == "password-changed":
        return PasswordChanged(user_id=user.id, changed_at=user.password_changed_at, origin=AUTH)
    if change == "profile-changed":
        return UserProfileChanged(
            user_id=user.id, display_name=user.name, changed_at=user.updated_at, origin=AUTH
        )
    return None


def _account(user: User, change: AccountChange) -> UserAccountChanged:
    return UserAccountChanged(
        user_id=user.id,
        user_version=user.version,
        origin=AUTH,
        change=change,
        email=user.email,
        email_key=user.email_key,
        display_name=user.name,
        password_hash=user.password_hash,
        password_changed_at=user.password_changed_at,
        registered_at=user.created_at,
    )


def _note(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush writes them: which users it adds or changes, and how."""
    noted: list[tuple[User, list[AccountChange]]] = session.info.setdefault(_NOTED, [])
    for user in (*session.new, *session.dirty):
        if not isinstance(user, User):
            continue
        new = user in session.new
        if not new and not session.is_modified(user):
            continue
        changes = _changes_of(user, new=new)
        known = next((found for seen, found in noted if seen is user), None)
        if known is None:
            noted.append((user, changes))
        else:
            known.extend(change for change in changes if change not in known)


def watch_account_changes(session: AsyncSession) -> None:
    """Note, at every flush of ``session``, the users it writes (``record_account_changes``)."""
    if not event.contains(session.sync_session, "before_flush", _note):
        event.listen(session.sync_session, "before_flush", _note)


async def record_account_changes(session: AsyncSession) -> None:
    """Flush the session, then record in its outbox, for each user the watched session added
    or changed, what happened, with the record as it is now."""
    await session.flush()  # notes what is still pending, counts each record's version
    noted: list[tuple[User, list[AccountChange]]] = session.info.pop(_NOTED, [])
    for user, changes in noted:
        if not changes:
            continue
        for change in changes:
            public = _public(user, change)
            if public is not None:
                await _OUTBOX.record(session, public)
        await _OUTBOX.record(session, _account(user, changes[-1]))


async def record_event(session: AsyncSession, event: IntegrationEvent) -> None:
    """Record ``event`` in auth's outbox, in the session's transaction."""
    await _OUTBOX.record(session, event)
