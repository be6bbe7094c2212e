"""Auth's accounts side of closing an account, on ``strangler_closures``: the closures in
``account_closures``, events through auth's outbox, and the erase of a user here.

The erase goes through the domain (``User.erase``) on a session whose account changes are
watched, so it is published as every change of the record is — ``UserProfileChanged`` and
the whole record in ``UserAccountChanged`` — and the two-way sync erases the account in the
monolith too. Every session of the user ends with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from strangler_closures import (
    ERASED_NAME,
    ERASED_PASSWORD_HASH,
    AccountsSide,
    erased_email,
)

from auth_service.adapters.account_events import (
    record_account_changes,
    record_event,
    watch_account_changes,
)
from auth_service.adapters.orm import account_closures
from auth_service.adapters.repositories import SqlRefreshTokens
from auth_service.domain.users import User
from auth_service.service_layer.ports import Clock

__all__ = ["accounts_side"]


async def _erase(session: AsyncSession, user_id: str, now: datetime) -> None:
    watch_account_changes(session)
    user = await session.get(User, user_id)
    if user is None:
        return
    user.erase(
        email=erased_email(user_id),
        name=ERASED_NAME,
        password_hash=ERASED_PASSWORD_HASH,
        now=now,
    )
    await SqlRefreshTokens(session).revoke_every_family_of(user_id, now)
    await record_account_changes(session)


def accounts_side(clock: Clock) -> AccountsSide:
    """Auth's part in closures, on its tables and outbox, at ``clock``'s time."""
    return AccountsSide(table=account_closures, record=record_event, erase=_erase, clock=clock)
