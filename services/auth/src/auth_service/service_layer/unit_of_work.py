"""The unit of work: one transaction, and the repositories that read and write inside it."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from auth_service.domain.sessions import RefreshToken
from auth_service.domain.signing_keys import SigningKey
from auth_service.domain.throttling import LoginThrottle
from auth_service.domain.users import User

__all__ = [
    "ConflictingWrite",
    "LoginThrottles",
    "RefreshTokens",
    "SigningKeys",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "Users",
]


class ConflictingWrite(Exception):
    """The database refused the write: a unique key taken, or a concurrent change first."""


class Users(Protocol):
    async def get(self, user_id: str) -> User | None: ...
    async def with_email_key(self, email_key: str) -> User | None: ...
    def add(self, user: User) -> None: ...


class RefreshTokens(Protocol):
    async def get(self, token_hash: str) -> RefreshToken | None: ...
    def add(self, token: RefreshToken) -> None: ...
    async def claim(self, token: RefreshToken, now: datetime) -> bool:
        """Mark ``token`` used unless someone else did first; whether this call did."""
        ...

    async def revoke_family(self, family_id: str, now: datetime) -> None: ...
    async def revoke_every_family_of(self, user_id: str, now: datetime) -> None: ...
    async def session_revoked(self, access_token_id: str) -> bool:
        """Whether the session the access token ``access_token_id`` was issued with is
        revoked (logged out, or a refresh token of it reused)."""
        ...

    async def drop_expired(self, now: datetime) -> int:
        """Forget the refresh tokens that expired; how many."""
        ...


class SigningKeys(Protocol):
    async def every(self) -> Sequence[SigningKey]: ...
    def add(self, key: SigningKey) -> None: ...
    async def drop_unpublished(self, now: datetime) -> None: ...


class LoginThrottles(Protocol):
    async def get(self, key: str) -> LoginThrottle | None: ...
    def add(self, throttle: LoginThrottle) -> None: ...
    async def drop_started_before(self, instant: datetime) -> int:
        """Forget the counts whose window started before ``instant`` (ended); how many."""
        ...


class UnitOfWork(abc.ABC):
    users: Users
    refresh_tokens: RefreshTokens
    signing_keys: SigningKeys
    throttles: LoginThrottles

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    @abc.abstractmethod
    async def commit(self) -> None:
        """Write everything; ``ConflictingWrite`` when the database refuses it."""

    @abc.abstractmethod
    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
