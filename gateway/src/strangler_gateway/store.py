"""Where the flags live. The hot path only reads ``current()``: an in-memory snapshot."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

from strangler_flags import FlagState, RouteFlag, flag_to_document
from strangler_persistence import utcnow

__all__ = [
    "KILL_SWITCH_SUBJECT",
    "AuditEntry",
    "FlagState",
    "FlagStore",
    "InMemoryFlagStore",
]

KILL_SWITCH_SUBJECT = "kill-switch"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change: who made it, when, the value before and after, and why.

    ``subject`` is a flag name or ``kill-switch``.
    """

    at: datetime
    who: str
    subject: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any]
    reason: str


class FlagStore(Protocol):
    async def start(self) -> None:
        """Load the flags and begin following changes; called by the gateway's lifespan."""
        ...

    async def close(self) -> None: ...

    async def follow(self, stop: asyncio.Event) -> None:
        """Take in changes made elsewhere (another replica, the CLI) until ``stop`` is set.

        The gateway runs it as its ``flag-poller`` loop under its ``LoopSupervisor``: if it
        raises, routing goes on with the last known flags while the supervisor says so on
        ``/health/ready`` and starts it again.
        """
        ...

    def current(self) -> FlagState:
        """The latest known flags; must not block or do I/O."""
        ...

    async def set_flag(self, name: str, flag: RouteFlag, *, who: str, reason: str) -> None: ...

    async def set_kill_switch(self, on: bool, *, who: str, reason: str) -> None: ...

    async def history(self, subject: str | None = None, limit: int = 100) -> Sequence[AuditEntry]:
        """The latest changes first, optionally of one flag (or of ``kill-switch``)."""
        ...


class InMemoryFlagStore:
    """Flags held by this process only: unit tests and a single-process demo."""

    def __init__(
        self, flags: Mapping[str, RouteFlag] | None = None, kill_switch: bool = False
    ) -> None:
        self._state = FlagState(MappingProxyType(dict(flags or {})), kill_switch)
        self._audit: list[AuditEntry] = []

    @classmethod
    def all_legacy(cls, names: Iterable[str]) -> InMemoryFlagStore:
        return cls({name: RouteFlag() for name in names})

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def follow(self, stop: asyncio.Event) -> None:
        """Nothing changes elsewhere: wait for the stop."""
        await stop.wait()

    def current(self) -> FlagState:
        return self._state

    async def set_flag(self, name: str, flag: RouteFlag, *, who: str, reason: str) -> None:
        old = self._state.flags.get(name)
        flags = dict(self._state.flags)
        flags[name] = flag
        self._state = FlagState(MappingProxyType(flags), self._state.kill_switch)
        self._audit.append(
            AuditEntry(
                utcnow(),
                who,
                name,
                flag_to_document(old) if old else None,
                flag_to_document(flag),
                reason,
            )
        )

    async def set_kill_switch(self, on: bool, *, who: str, reason: str) -> None:
        old = self._state.kill_switch
        self._state = FlagState(self._state.flags, on)
        self._audit.append(
            AuditEntry(utcnow(), who, KILL_SWITCH_SUBJECT, {"on": old}, {"on": on}, reason)
        )

    async def history(self, subject: str | None = None, limit: int = 100) -> Sequence[AuditEntry]:
        entries = [e for e in reversed(self._audit) if subject is None or e.subject == subject]
        return entries[:limit]
