"""The repositories on one SQLAlchemy session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.adapters.orm import login_throttles, refresh_tokens, signing_keys, users
from auth_service.domain.sessions import RefreshToken
from auth_service.domain.signing_keys import SigningKey
from auth_service.domain.throttling import LoginThrottle
from auth_service.domain.users import User

__all__ = ["SqlLoginThrottles", "SqlRefreshTokens", "SqlSigningKeys", "SqlUsers"]


class SqlUsers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: str) -> User | None:
        return await self._session.get(User, user_id)

    async def with_email_key(self, email_key: str) -> User | None:
        found: User | None = await self._session.scalar(
            select(User).where(users.c.email_key == email_key)
        )
        return found

    def add(self, user: User) -> None:
        self._session.add(user)


class SqlRefreshTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, token_hash: str) -> RefreshToken | None:
        return await self._session.get(RefreshToken, token_hash)

    def add(self, token: RefreshToken) -> None:
        self._session.add(token)

    async def claim(self, token: RefreshToken, now: datetime) -> bool:
        """One conditional UPDATE: of two requests redeeming one token at once, exactly one
        finds it unused; the other is told it lost (and treats it as a reuse). Not flushed
        first: the token's own ``used_at``, set by the domain, must not satisfy the check."""
        with self._session.no_autoflush:
            claimed = await self._session.execute(
                update(refresh_tokens)
                .where(
                    refresh_tokens.c.token_hash == token.token_hash,
                    refresh_tokens.c.used_at.is_(None),
                    refresh_tokens.c.revoked_at.is_(None),
                )
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
        return bool(getattr(claimed, "rowcount", 0) == 1)

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        await self._session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    async def revoke_every_family_of(self, user_id: str, now: datetime) -> None:
        await self._session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    async def drop_expired(self, now: datetime) -> int:
        dropped = await self._session.execute(
            delete(refresh_tokens)
            .where(refresh_tokens.c.expires_at <= now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(dropped, "rowcount", 0) or 0)

    async def session_revoked(self, access_token_id: str) -> bool:
        revoked = await self._session.scalar(
            select(
                exists().where(
                    refresh_tokens.c.access_token_id == access_token_id,
                    refresh_tokens.c.revoked_at.is_not(None),
                )
            )
        )
        return bool(revoked)


class SqlSigningKeys:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def every(self) -> Sequence[SigningKey]:
        return (
            await self._session.scalars(select(SigningKey).order_by(signing_keys.c.created_at))
        ).all()

    def add(self, key: SigningKey) -> None:
        self._session.add(key)

    async def drop_unpublished(self, now: datetime) -> None:
        await self._session.execute(
            delete(signing_keys)
            .where(signing_keys.c.retire_after.is_not(None), signing_keys.c.retire_after <= now)
            .execution_options(synchronize_session=False)
        )


class SqlLoginThrottles:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, key: str) -> LoginThrottle | None:
        return await self._session.get(LoginThrottle, key)

    def add(self, throttle: LoginThrottle) -> None:
        self._session.add(throttle)

    async def drop_started_before(self, instant: datetime) -> int:
        dropped = await self._session.execute(
            delete(login_throttles)
            .where(login_throttles.c.window_started_at < instant)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(dropped, "rowcount", 0) or 0)
