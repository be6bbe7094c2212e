"""Registration, login, password and profile changes; the first two cause a mail (the welcome,
password changed), sent inline or handed over to notifications as the ``mail`` flag says.

Each change publishes what happened (``UserRegistered``, ``PasswordChanged``,
``UserProfileChanged``) and, for auth's copy, the whole account (``UserAccountChanged``),
both through the outbox in the change's transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_identity import comparison_key, parse_email_address

from legacy_monolith import events
from legacy_monolith.database import utcnow
from legacy_monolith.errors import DuplicateEmail, InvalidCredentials, WrongPassword
from legacy_monolith.models import User, new_id
from legacy_monolith.notifications.service import record_with_mail
from legacy_monolith.runtime import Runtime

__all__ = ["change_password", "change_profile", "login", "register"]


async def register(
    session: AsyncSession, runtime: Runtime, *, email: str, password: str, name: str
) -> User:
    """Create the account; an address that compares equal to a registered one (a look-alike
    included) is a duplicate. The request schema has already refused unacceptable addresses."""
    address = parse_email_address(email)
    if await session.scalar(select(User.id).where(User.email_key == address.key)) is not None:
        raise DuplicateEmail(address.address)
    now = utcnow()
    user = User(
        id=new_id(),
        email=address.address,
        email_key=address.key,
        name=name,
        password_hash=runtime.passwords.hash(password),
        password_changed_at=now,
        created_at=now,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        await session.rollback()
        raise DuplicateEmail(address.address) from exc
    await record_with_mail(session, runtime, user, events.user_registered(user), "welcome")
    await events.record(session, events.account_changed(user, "registered"))
    await session.commit()
    return user


async def login(session: AsyncSession, runtime: Runtime, *, email: str, password: str) -> str:
    """A token for the account whose address compares equal to what the caller typed."""
    user = await session.scalar(select(User).where(User.email_key == comparison_key(email)))
    if user is None or not runtime.passwords.verify(user.password_hash, password):
        raise InvalidCredentials
    return runtime.tokens.issue(user.id, user.email)


async def change_password(
    session: AsyncSession, runtime: Runtime, user: User, *, current: str, new: str
) -> None:
    """Change the password; every token issued before now stops working."""
    if not runtime.passwords.verify(user.password_hash, current):
        raise WrongPassword
    user.password_hash = runtime.passwords.hash(new)
    user.password_changed_at = utcnow()
    await session.flush()  # counts the record's version
    await record_with_mail(
        session, runtime, user, events.password_changed(user), "password_changed"
    )
    await events.record(session, events.account_changed(user, "password-changed"))
    await session.commit()


async def change_profile(session: AsyncSession, user: User, *, name: str) -> User:
    """Change how the user is shown; the same name again changes nothing and publishes nothing."""
    if name == user.name:
        return user
    user.name = name
    await session.flush()  # counts the record's version
    await events.record(session, events.user_profile_changed(user, utcnow()))
    await events.record(session, events.account_changed(user, "profile-changed"))
    await session.commit()
    return user
