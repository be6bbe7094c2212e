"""The signing keys: the first ones, rotation, what is published, which key signs.

Every process reads the keys from the database, so a rotation made through any process (or
the command line) is seen by all: a process keeps what it read for ``cache_seconds``. That
is safe because a promoted key was published as ``next`` for a whole rotation period.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from auth_service.domain.signing_keys import KeyState, SigningKey, rotate
from auth_service.service_layer.ports import Clock
from auth_service.service_layer.unit_of_work import UnitOfWorkFactory

__all__ = ["KeyFactory", "Rotation", "SigningKeyring"]

KeyFactory = Callable[[datetime], SigningKey]
"""A new key pair (state ``next``), created at the given instant."""


@dataclass(frozen=True)
class Rotation:
    signing: str
    """The kid that signs from now on."""
    next: str
    """The kid published to sign at the next rotation."""
    retired: tuple[str, ...]
    """Kids that sign nothing and stay published until their last token expired."""


class SigningKeyring:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        new_key: KeyFactory,
        clock: Clock,
        *,
        longest_token: timedelta,
        cache_seconds: float,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._new_key = new_key
        self._clock = clock
        self._longest_token = longest_token
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, list[SigningKey]] | None = None

    async def ensure(self) -> None:
        """A first start: a key that signs and a next one. Later starts change nothing.
        (``prepare`` calls it; a process finding no key calls it too.)"""
        async with self._unit_of_work() as uow:
            keys = await uow.signing_keys.every()
            now = self._clock()
            if not any(key.state == KeyState.CURRENT for key in keys):
                first = self._new_key(now)
                first.state = KeyState.CURRENT
                first.activated_at = now
                uow.signing_keys.add(first)
            if not any(key.state == KeyState.NEXT for key in keys):
                uow.signing_keys.add(self._new_key(now))
            await uow.commit()
        self._cached = None

    async def rotate(self) -> Rotation:
        """``next`` signs from now on; see ``domain.signing_keys.rotate``. On a database
        without keys, the first ones are made first."""
        await self.ensure()
        async with self._unit_of_work() as uow:
            now = self._clock()
            await uow.signing_keys.drop_unpublished(now)
            keys = list(await uow.signing_keys.every())
            fresh = self._new_key(now)
            rotate(keys, fresh, now, self._longest_token)
            uow.signing_keys.add(fresh)
            await uow.commit()
            keys.append(fresh)
        self._cached = None
        return _rotation(keys)

    async def published(self) -> list[SigningKey]:
        """Every key a verifier must know now: current, next, and retired ones whose tokens
        may still be valid."""
        keys = await self._keys()
        if not any(key.state == KeyState.CURRENT for key in keys):
            await self.ensure()
            keys = await self._keys()
        now = self._clock()
        return [key for key in keys if key.published(now)]

    async def signing(self) -> SigningKey:
        """The key that signs now."""
        current = [key for key in await self._keys() if key.state == KeyState.CURRENT]
        if not current:
            await self.ensure()
            current = [key for key in await self._keys() if key.state == KeyState.CURRENT]
        return max(current, key=lambda key: key.activated_at or key.created_at)

    async def _keys(self) -> Sequence[SigningKey]:
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        async with self._unit_of_work() as uow:
            keys = list(await uow.signing_keys.every())
        self._cached = (time.monotonic(), keys)
        return keys


def _rotation(keys: Sequence[SigningKey]) -> Rotation:
    def kids(state: KeyState) -> tuple[str, ...]:
        return tuple(key.kid for key in keys if key.state == state)

    return Rotation(
        signing=kids(KeyState.CURRENT)[-1],
        next=kids(KeyState.NEXT)[-1],
        retired=kids(KeyState.RETIRED),
    )
