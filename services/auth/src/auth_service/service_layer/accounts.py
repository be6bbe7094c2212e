"""Accounts: register, log in, refresh, log out, who a token names, change a password.

The rules the monolith keeps, kept the same way (addresses compared by their key, a token
issued before a password change refused), and what auth adds: refresh tokens rotated on
every use with reuse detection, logout, login throttling, hashes upgraded to argon2id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from strangler_identity import comparison_key, parse_email_address

from auth_service.domain import errors
from auth_service.domain.sessions import Redemption, RefreshToken
from auth_service.domain.throttling import LoginThrottle
from auth_service.domain.users import User
from auth_service.service_layer.ports import AccessTokens, Clock, PasswordHashing
from auth_service.service_layer.unit_of_work import (
    ConflictingWrite,
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = ["Accounts", "LoginPolicy", "Session", "TokenHolder"]

T = TypeVar("T")

REFRESH_TOKEN_BYTES = 32
LOGIN_ATTEMPTS = 2
"""A successful login whose write meets a concurrent change is tried once more."""


@dataclass(frozen=True)
class LoginPolicy:
    account_failures: int
    address_failures: int
    window: timedelta
    refresh_token_ttl: timedelta
    hash_concurrency: int = 2
    """Password hashes computed at once, each in a worker thread: argon2id takes tens of
    milliseconds of CPU and 64 MiB, and the event loop keeps serving meanwhile."""


@dataclass(frozen=True)
class Session:
    """What a login or a refresh gives the client."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


@dataclass(frozen=True)
class TokenHolder:
    """What a verified access token says about its holder, as the service layer needs it."""

    user_id: str
    issued_at: datetime
    token_id: str | None


def _hash_of(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _account_key(email: str) -> str:
    return f"account:{comparison_key(email)}"


def _address_key(address: str) -> str:
    return f"address:{address}"


class Accounts:
    def __init__(
        self,
        *,
        unit_of_work: UnitOfWorkFactory,
        passwords: PasswordHashing,
        tokens: AccessTokens,
        clock: Clock,
        policy: LoginPolicy,
    ) -> None:
        self.unit_of_work = unit_of_work
        self._passwords = passwords
        self._tokens = tokens
        self._clock = clock
        self._policy = policy
        self._hashing = asyncio.Semaphore(policy.hash_concurrency)

    async def register(self, *, email: str, password: str, name: str) -> User:
        """A new account; an address comparing equal to a registered one is a duplicate."""
        address = parse_email_address(email)
        async with self.unit_of_work() as uow:
            if await uow.users.with_email_key(address.key) is not None:
                raise errors.DuplicateEmail(address.address)
            user = User(
                id=str(uuid.uuid4()),
                email=address.address,
                email_key=address.key,
                name=name,
                password_hash=await self._off_loop(self._passwords.hash, password),
                now=self._clock(),
            )
            uow.users.add(user)
            try:
                await uow.commit()
            except ConflictingWrite as exc:  # a concurrent registration won the race
                raise errors.DuplicateEmail(address.address) from exc
        return user

    async def login(self, *, email: str, password: str, client_address: str) -> Session:
        """A session for the account whose address compares equal to ``email``.

        An unknown address and a wrong password are one answer and the same work (a
        verification against a dummy hash); both count against the address typed and the
        client address, and a key at its limit is refused before any password is checked.
        """
        for attempt in range(LOGIN_ATTEMPTS):
            try:
                return await self._login(email, password, client_address)
            except ConflictingWrite:
                if attempt == LOGIN_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _login(self, email: str, password: str, client_address: str) -> Session:
        account_key, address_key = _account_key(email), _address_key(client_address)
        async with self.unit_of_work() as uow:
            await self._refuse_throttled(uow, account_key, address_key)
            user = await uow.users.with_email_key(comparison_key(email))
            if user is None:
                await self._off_loop(self._passwords.verify_nobody, password)
                verified = False
            else:
                verified = await self._off_loop(
                    self._passwords.verify, user.password_hash, password
                )
            now = self._clock()
            if user is None or not verified:
                for key in (account_key, address_key):
                    await self._count_failure(uow, key, now)
                # Two failures counted at once may both create a key's row: one is lost,
                # never the refusal.
                with contextlib.suppress(ConflictingWrite):
                    await uow.commit()
                raise errors.InvalidCredentials
            throttle = await uow.throttles.get(account_key)
            if throttle is not None:
                throttle.cleared(now)
            if self._passwords.needs_upgrade(user.password_hash):
                user.upgrade_password_hash(
                    await self._off_loop(self._passwords.hash, password), now
                )
            session = await self._start(uow, user, str(uuid.uuid4()), now)
            await uow.commit()
        return session

    async def refresh(self, refresh_token: str) -> Session:
        """The next access and refresh token of the same session; a used one presented again
        revokes the whole session."""
        async with self.unit_of_work() as uow:
            token = await uow.refresh_tokens.get(_hash_of(refresh_token))
            if token is None:
                raise errors.InvalidRefreshToken("it is not a refresh token auth issued")
            now = self._clock()
            redemption = token.redeem(now)
            if redemption is Redemption.ACCEPTED and not await uow.refresh_tokens.claim(token, now):
                redemption = Redemption.REUSED
            if redemption is Redemption.REUSED:
                await uow.refresh_tokens.revoke_family(token.family_id, now)
                await uow.commit()
                raise errors.InvalidRefreshToken(
                    "it was used before, so its session is revoked; log in again"
                )
            if redemption is Redemption.REVOKED:
                raise errors.InvalidRefreshToken("its session was ended; log in again")
            if redemption is Redemption.EXPIRED:
                raise errors.InvalidRefreshToken("it expired; log in again")
            user = await uow.users.get(token.user_id)
            if user is None:
                raise errors.InvalidRefreshToken("its account no longer exists")
            if not user.accepts_token_issued_at(token.issued_at):
                # Changed or erased on the other side, and synced here: its sessions end too.
                await uow.refresh_tokens.revoke_family(token.family_id, now)
                await uow.commit()
                raise errors.InvalidRefreshToken(
                    "the password changed (or the account was closed) after it was issued; "
                    "log in again"
                )
            session = await self._start(uow, user, token.family_id, now)
            await uow.commit()
        return session

    async def logout(self, refresh_token: str) -> None:
        """End the session the refresh token belongs to: its refresh tokens and the access
        tokens issued with them are refused from now on. An unknown token ends nothing."""
        async with self.unit_of_work() as uow:
            token = await uow.refresh_tokens.get(_hash_of(refresh_token))
            if token is None:
                raise errors.InvalidRefreshToken("it is not a refresh token auth issued")
            await uow.refresh_tokens.revoke_family(token.family_id, self._clock())
            await uow.commit()

    async def holder(self, token: TokenHolder) -> User:
        """The account a verified access token names, if auth still accepts the token."""
        async with self.unit_of_work() as uow:
            return await self._holder(uow, token)

    async def change_profile(self, token: TokenHolder, *, name: str) -> User:
        """Change how the account is shown: its name."""
        async with self.unit_of_work() as uow:
            user = await self._holder(uow, token)
            user.rename(name, self._clock())
            await uow.commit()
        return user

    async def change_password(self, token: TokenHolder, *, current: str, new: str) -> None:
        """A new password; every token issued before it, and every session, is refused."""
        async with self.unit_of_work() as uow:
            user = await self._holder(uow, token)
            if not await self._off_loop(self._passwords.verify, user.password_hash, current):
                raise errors.WrongPassword
            new_hash = await self._off_loop(self._passwords.hash, new)
            now = self._clock()
            user.change_password(new_hash, now)
            await uow.refresh_tokens.revoke_every_family_of(user.id, now)
            await uow.commit()

    async def forget_the_past(self) -> int:
        """Drop what can no longer matter: refresh tokens past their expiry (a reuse of one
        is refused as unknown, which it then is) and login counts whose window ended. Without
        it, guessed addresses and client addresses would grow the throttle table for ever.
        How many rows went."""
        now = self._clock()
        async with self.unit_of_work() as uow:
            dropped = await uow.refresh_tokens.drop_expired(now)
            dropped += await uow.throttles.drop_started_before(now - self._policy.window)
            await uow.commit()
        return dropped

    async def _off_loop(self, work: Callable[..., T], *args: str) -> T:
        """A password hash or verification in a worker thread, at most ``hash_concurrency``
        at once (argon2-cffi releases the GIL while it hashes)."""
        async with self._hashing:
            return await asyncio.to_thread(work, *args)

    async def _holder(self, uow: UnitOfWork, token: TokenHolder) -> User:
        user = await uow.users.get(token.user_id)
        if user is None:
            raise errors.TokenNotAccepted("The access token names a user that does not exist.")
        if not user.accepts_token_issued_at(token.issued_at):
            raise errors.TokenNotAccepted(
                "The password changed after this token was issued; log in again."
            )
        if token.token_id is not None and await uow.refresh_tokens.session_revoked(token.token_id):
            raise errors.TokenNotAccepted("The session of this token was ended; log in again.")
        return user

    async def _refuse_throttled(self, uow: UnitOfWork, account_key: str, address_key: str) -> None:
        now = self._clock()
        waits = []
        for key, limit in (
            (account_key, self._policy.account_failures),
            (address_key, self._policy.address_failures),
        ):
            throttle = await uow.throttles.get(key)
            wait = (
                None if throttle is None else throttle.retry_after(now, limit, self._policy.window)
            )
            if wait is not None:
                waits.append(wait)
        if waits:
            raise errors.LoginThrottled(max(waits))

    async def _count_failure(self, uow: UnitOfWork, key: str, now: datetime) -> None:
        throttle = await uow.throttles.get(key)
        if throttle is None:
            throttle = LoginThrottle(key=key, now=now)
            uow.throttles.add(throttle)
        throttle.failed(now, self._policy.window)

    async def _start(self, uow: UnitOfWork, user: User, family_id: str, now: datetime) -> Session:
        access = await self._tokens.issue(user, now)
        refresh_token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
        ttl = self._policy.refresh_token_ttl
        uow.refresh_tokens.add(
            RefreshToken(
                token_hash=_hash_of(refresh_token),
                family_id=family_id,
                user_id=user.id,
                access_token_id=access.token_id,
                issued_at=now,
                expires_at=now + ttl,
            )
        )
        return Session(
            access_token=access.token,
            expires_in=access.expires_in,
            refresh_token=refresh_token,
            refresh_expires_in=int(ttl.total_seconds()),
        )
