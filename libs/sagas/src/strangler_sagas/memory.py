"""A saga store in memory, for unit tests: the same contract as the SQL one, no database.

Sagas are copied in and out, as rows would be, so a test cannot change a stored saga by
holding on to an object the orchestrator also holds.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strangler_sagas.state import HistoryEntry, SagaState, SagaStatus

__all__ = ["InMemorySagaStore"]


@dataclass
class InMemorySagaStore:
    sagas: dict[str, SagaState] = field(default_factory=dict)
    entries: dict[str, list[HistoryEntry]] = field(default_factory=dict)

    async def create(self, saga: SagaState) -> tuple[SagaState, bool]:
        if saga.idempotency_key is not None:
            existing = await self.find(saga.saga_type, saga.idempotency_key)
            if existing is not None:
                return existing, False
        if saga.id in self.sagas:
            raise ValueError(f"saga {saga.id} exists")
        self.sagas[saga.id] = copy.deepcopy(saga)
        self.entries[saga.id] = []
        return copy.deepcopy(saga), True

    async def find(self, saga_type: str, idempotency_key: str) -> SagaState | None:
        for saga in self.sagas.values():
            if saga.saga_type == saga_type and saga.idempotency_key == idempotency_key:
                return copy.deepcopy(saga)
        return None

    async def get(self, saga_id: str) -> SagaState | None:
        saga = self.sagas.get(saga_id)
        return copy.deepcopy(saga) if saga is not None else None

    async def history(self, saga_id: str) -> list[HistoryEntry]:
        return list(self.entries.get(saga_id, []))

    async def get_with_history(self, saga_id: str) -> tuple[SagaState, list[HistoryEntry]] | None:
        saga = await self.get(saga_id)
        return (saga, await self.history(saga_id)) if saga is not None else None

    async def due(self, now: datetime, limit: int) -> list[str]:
        due = [
            saga
            for saga in self.sagas.values()
            if saga.in_flight and saga.next_attempt_at <= now and _free(saga, now)
        ]
        due.sort(key=lambda saga: saga.next_attempt_at)
        return [saga.id for saga in due[:limit]]

    async def claim_due(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[SagaState]:
        claimed = [
            self._take(saga_id, owner, now, lease_until)
            for saga_id in await InMemorySagaStore.due(self, now, limit)
        ]
        return [saga for saga in claimed if saga is not None]

    async def claim(
        self, saga_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> SagaState | None:
        return self._take(saga_id, owner, now, lease_until)

    def _take(
        self, saga_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> SagaState | None:
        saga = self.sagas.get(saga_id)
        if saga is None or not saga.in_flight or not _free(saga, now):
            return None
        saga.owner, saga.lease_expires_at = owner, lease_until
        return copy.deepcopy(saga)

    async def save(
        self,
        saga: SagaState,
        owner: str,
        entry: HistoryEntry | None = None,
        *,
        within: Any = None,
    ) -> bool:
        stored = self.sagas.get(saga.id)
        if stored is None or stored.owner != owner:
            return False
        self.sagas[saga.id] = copy.deepcopy(saga)
        if entry is not None:
            self.entries[saga.id].append(entry)
        return True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """No transaction to share: steps keep their own."""
        yield None

    async def renew(self, saga_id: str, owner: str, lease_until: datetime) -> bool:
        saga = self.sagas.get(saga_id)
        if saga is None or saga.owner != owner:
            return False
        saga.lease_expires_at = lease_until
        return True

    async def release(self, saga_id: str, owner: str) -> None:
        saga = self.sagas.get(saga_id)
        if saga is not None and saga.owner == owner:
            saga.owner, saga.lease_expires_at = None, None

    async def recent(
        self, *, status: SagaStatus | None, saga_type: str | None, limit: int
    ) -> list[SagaState]:
        chosen = [
            saga
            for saga in self.sagas.values()
            if (status is None or saga.status == status)
            and (saga_type is None or saga.saga_type == saga_type)
        ]
        chosen.sort(key=lambda saga: (saga.updated_at, saga.id), reverse=True)
        return [copy.deepcopy(saga) for saga in chosen[:limit]]


def _free(saga: SagaState, now: datetime) -> bool:
    return saga.owner is None or saga.lease_expires_at is None or saga.lease_expires_at < now
