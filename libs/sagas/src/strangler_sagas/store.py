"""Where sagas are kept: the port the orchestrator writes through.

Two implementations: ``SqlSagaStore`` on the owning service's own database, and
``InMemorySagaStore`` for unit tests. Every write of a saga is fenced by its lease: it
succeeds only while the writer still owns the saga, so a worker that lost its lease (it
stalled past the expiry, and another worker claimed the saga) can no longer change it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from strangler_sagas.state import HistoryEntry, SagaState, SagaStatus

__all__ = ["SagaStore"]


class SagaStore(Protocol):
    async def create(self, saga: SagaState) -> tuple[SagaState, bool]:
        """Store a new saga; answers ``(saga, True)``, or ``(existing, False)`` when a saga
        of the same type already holds its idempotency key."""
        ...

    async def find(self, saga_type: str, idempotency_key: str) -> SagaState | None: ...

    async def get(self, saga_id: str) -> SagaState | None: ...

    async def history(self, saga_id: str) -> list[HistoryEntry]:
        """Every attempt recorded for the saga, oldest first."""
        ...

    async def get_with_history(self, saga_id: str) -> tuple[SagaState, list[HistoryEntry]] | None:
        """The saga and its history as one read: both as they stood at one moment."""
        ...

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Ids of in-flight sagas whose next attempt is due and that nobody holds (no owner,
        or a lease expired before ``now``), the longest-waiting first."""
        ...

    async def claim_due(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[SagaState]:
        """Take the lease of up to ``limit`` of the sagas ``due`` offers, the longest-waiting
        first, in one conditional update: those this call got (another worker's claim at
        the same moment takes the others)."""
        ...

    async def claim(
        self, saga_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> SagaState | None:
        """Take the lease of an in-flight saga nobody holds, in one conditional update;
        ``None`` when it is final or someone else holds it."""
        ...

    async def save(
        self,
        saga: SagaState,
        owner: str,
        entry: HistoryEntry | None = None,
        *,
        within: Any = None,
    ) -> bool:
        """Write the saga (its new owner and lease included) and append ``entry``, in one
        transaction, only if the stored saga is still held by ``owner``. False when it is
        not: nothing is written.

        ``within``: a transaction of ``transaction()`` that a step wrote in. The saga is
        written into it and it is committed, the step's changes with it; not held by
        ``owner``, it is rolled back, the step's changes with it.
        """
        ...

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """A transaction for a step to write in (``StepContext.transaction``), ended by
        ``save(within=...)`` or rolled back on leaving the block; ``None`` where the store
        cannot share one with the steps."""
        ...

    async def renew(self, saga_id: str, owner: str, lease_until: datetime) -> bool:
        """Extend ``owner``'s lease; False when it no longer holds the saga."""
        ...

    async def release(self, saga_id: str, owner: str) -> None:
        """Give the lease up so any worker may resume the saga now."""
        ...

    async def recent(
        self, *, status: SagaStatus | None, saga_type: str | None, limit: int
    ) -> list[SagaState]:
        """The most recently updated sagas first."""
        ...
