"""The unit of work on one SQLAlchemy session: a transaction and its repositories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from strangler_persistence import SessionFactory

from auth_service.adapters.account_events import record_account_changes, watch_account_changes
from auth_service.adapters.repositories import (
    SqlLoginThrottles,
    SqlRefreshTokens,
    SqlSigningKeys,
    SqlUsers,
)
from auth_service.service_layer.unit_of_work import ConflictingWrite, UnitOfWork

__all__ = ["SqlAlchemyUnitOfWork"]


@contextmanager
def _refusals_are_conflicts() -> Iterator[None]:
    try:
        yield
    except (IntegrityError, StaleDataError) as exc:
        raise ConflictingWrite(str(exc).splitlines()[0]) from exc


class SqlAlchemyUnitOfWork(UnitOfWork):
    """A transaction of its own, on a new session for every ``async with``."""

    session: AsyncSession

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        watch_account_changes(self.session)
        self.users = SqlUsers(self.session)
        self.refresh_tokens = SqlRefreshTokens(self.session)
        self.signing_keys = SqlSigningKeys(self.session)
        self.throttles = SqlLoginThrottles(self.session)
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

    async def commit(self) -> None:
        with _refusals_are_conflicts():
            await record_account_changes(self.session)
            await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
