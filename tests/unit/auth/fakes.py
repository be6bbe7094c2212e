"""In-memory adapters for auth's service layer: a unit of work over dicts, and password
hashing that records what it was asked to do."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from auth_service.domain.sessions import RefreshToken
from auth_service.domain.signing_keys import SigningKey
from auth_service.domain.throttling import LoginThrottle
from auth_service.domain.users import User
from auth_service.service_layer.unit_of_work import UnitOfWork

__all__ = ["FakeDatabase", "RecordingPasswords"]


class RecordingPasswords:
    """``PasswordHashing``: ``hashed:<password>``; ``work`` lists every verification, the
    dummy one included."""

    def __init__(self) -> None:
        self.work: list[str] = []

    def hash(self, password: str) -> str:
        return f"hashed:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self.work.append("verify")
        return password_hash in {f"hashed:{password}", f"older:{password}"}

    def verify_nobody(self, password: str) -> None:
        self.work.append("verify")

    def needs_upgrade(self, password_hash: str) -> bool:
        return password_hash.startswith("older:")


class _Users:
    def __init__(self, rows: dict[str, User]) -> None:
        self.rows = rows

    async def get(self, user_id: str) -> User | None:
        return self.rows.get(user_id)

    async def with_email_key(self, email_key: str) -> User | None:
        return next((user for user in self.rows.values() if user.email_key == email_key), None)

    def add(self, user: User) -> None:
        self.rows[user.id] = user


class _RefreshTokens:
    def __init__(self, rows: dict[str, RefreshToken]) -> None:
        self.rows = rows

    async def get(self, token_hash: str) -> RefreshToken | None:
        return self.rows.get(token_hash)

    def add(self, token: RefreshToken) -> None:
        self.rows[token.token_hash] = token

    async def claim(self, token: RefreshToken, now: datetime) -> bool:
        return token.revoked_at is None

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        for token in self.rows.values():
            if token.family_id == family_id and token.revoked_at is None:
                token.revoked_at = now

    async def revoke_every_family_of(self, user_id: str, now: datetime) -> None:
        for token in self.rows.values():
            if token.user_id == user_id and token.revoked_at is None:
                token.revoked_at = now

    async def drop_expired(self, now: datetime) -> int:
        expired = [key for key, token in self.rows.items() if token.expires_at <= now]
        for key in expired:
            del self.rows[key]
        return len(expired)

    async def session_revoked(self, access_token_id: str) -> bool:
        return any(
            token.access_token_id == access_token_id and token.revoked_at is not None
            for token in self.rows.values()
        )


class _SigningKeys:
    def __init__(self, rows: list[SigningKey]) -> None:
        self.rows = rows

    async def every(self) -> Sequence[SigningKey]:
        return list(self.rows)

    def add(self, key: SigningKey) -> None:
        self.rows.append(key)

    async def drop_unpublished(self, now: datetime) -> None:
        self.rows[:] = [key for key in self.rows if key.published(now)]


class _Throttles:
    def __init__(self, rows: dict[str, LoginThrottle]) -> None:
        self.rows = rows

    async def get(self, key: str) -> LoginThrottle | None:
        return self.rows.get(key)

    def add(self, throttle: LoginThrottle) -> None:
        self.rows[throttle.key] = throttle

    async def drop_started_before(self, instant: datetime) -> int:
        ended = [key for key, throttle in self.rows.items()
                 if throttle.window_started_at < instant]  # fmt: skip
        for key in ended:
            del self.rows[key]
        return len(ended)


class FakeDatabase:
    """What the fake units of work share; every unit of work commits straight away."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.signing_keys: list[SigningKey] = []
        self.throttles: dict[str, LoginThrottle] = {}
        self.commits = 0

    def unit_of_work(self) -> UnitOfWork:
        database = self

        class _FakeUnitOfWork(UnitOfWork):
            def __init__(self) -> None:
                self.users = _Users(database.users)
                self.refresh_tokens = _RefreshTokens(database.refresh_tokens)
                self.signing_keys = _SigningKeys(database.signing_keys)
                self.throttles = _Throttles(database.throttles)

            async def commit(self) -> None:
                database.commits += 1

            async def rollback(self) -> None:
                return None

        return _FakeUnitOfWork()
