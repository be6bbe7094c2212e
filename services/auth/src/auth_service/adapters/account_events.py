"""What happens to an account here, published: the events of every user added or changed in a
unit of work, recorded in the outbox in the same transaction (``record_account_changes``).

Read from the session's change tracking, so every path that changes a ``User`` through the
domain publishes — registration, a password change, a hash upgraded at login, a new name —
and none has to remember to. Each change publishes the public event others react to
(``UserRegistered``, ``PasswordChanged``, ``UserProfileChanged``; a rehash has none: it is
the same password) and ``UserAccountChanged``, the whole record for the monolith's copy,
after the flush has counted the record's version. Changes the sync copies from the monolith
are written below the domain with plain SQL: they are not ``User`` objects of a session,
so nothing here publishes them again.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
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

__all__ = ["SOURCE", "record_account_changes"]

SOURCE: Final = f"/{AUTH}"
_OUTBOX: Final = Outbox(outbox, SOURCE)


def _changed(user: User, attribute: str) -> bool:
    return bool(inspect(user).attrs[attribute].history.has_changes())


def _changes_of(user: User, new: bool) -> list[AccountChange]:
    if new:
        return ["registered"]
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


async def record_account_changes(session: AsyncSession) -> None:
    """Flush the session and record, for each user it adds or changes, what happened."""
    changed = [
        (user, _changes_of(user, new=user in session.new))
        for user in (*session.new, *session.dirty)
        if isinstance(user, User) and (user in session.new or session.is_modified(user))
    ]
    changed = [(user, changes) for user, changes in changed if changes]
    if not changed:
        return
    await session.flush()  # counts each record's version
    for user, changes in changed:
        for change in changes:
            public = _public(user, change)
            if public is not None:
                await _OUTBOX.record(session, public)
        await _OUTBOX.record(session, _account(user, changes[-1]))
