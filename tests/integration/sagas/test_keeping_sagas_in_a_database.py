"""The SQL saga store on both databases a service may run on, SQLite and PostgreSQL: one worker
per saga whoever races for it, writes fenced by the lease, one saga per idempotency key."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from strangler_sagas import (
    HistoryEntry,
    Outcome,
    Phase,
    SagaState,
    SagaStatus,
    SqlSagaStore,
)

from tests.integration.sagas.conftest import SagaDatabase

pytestmark = pytest.mark.integration

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
WORKERS = 8


@pytest.fixture
def store(saga_database: SagaDatabase) -> SqlSagaStore:
    return saga_database.store


def _saga(key: str | None = None, due: datetime = NOW) -> SagaState:
    return SagaState(
        id=str(uuid.uuid4()),
        saga_type="order",
        status=SagaStatus.RUNNING,
        step_index=0,
        step_name="reserve",
        data={"order_id": "o-1", "lines": [1, 2]},
        failure=None,
        attempts=0,
        next_attempt_at=due,
        attempt_started_at=None,
        owner=None,
        lease_expires_at=None,
        idempotency_key=key,
        created_at=NOW,
        updated_at=NOW,
    )


async def test_of_workers_racing_for_one_saga_exactly_one_holds_it(store: SqlSagaStore) -> None:
    saga, _ = await store.create(_saga())
    lease = NOW + timedelta(seconds=30)

    claims = await asyncio.gather(
        *(store.claim(saga.id, f"worker-{n}", NOW, lease) for n in range(WORKERS))
    )

    winners = [claim for claim in claims if claim is not None]
    assert len(winners) == 1
    stored = await store.get(saga.id)
    assert stored is not None
    assert (stored.owner, stored.lease_expires_at) == (winners[0].owner, lease)
    assert stored.data == {"order_id": "o-1", "lines": [1, 2]}


async def test_an_expired_lease_lets_another_worker_in_and_fences_the_old_one_out(
    store: SqlSagaStore,
) -> None:
    saga, _ = await store.create(_saga())
    first = await store.claim(saga.id, "first", NOW, NOW + timedelta(seconds=10))
    assert first is not None
    assert await store.claim(saga.id, "second", NOW + timedelta(seconds=5), NOW) is None

    later = NOW + timedelta(seconds=11)
    second = await store.claim(saga.id, "second", later, later + timedelta(seconds=10))
    first.step_index = 2

    assert second is not None
    assert await store.save(first, "first") is False
    assert await store.renew(saga.id, "first", later + timedelta(seconds=60)) is False
    assert await store.renew(saga.id, "second", later + timedelta(seconds=60)) is True
    stored = await store.get(saga.id)
    assert stored is not None
    assert (stored.owner, stored.step_index) == ("second", 0)


async def test_a_save_writes_the_saga_and_its_history_entry_together(store: SqlSagaStore) -> None:
    saga, _ = await store.create(_saga())
    claimed = await store.claim(saga.id, "worker", NOW, NOW + timedelta(seconds=10))
    assert claimed is not None
    claimed.step_index, claimed.step_name = 1, "charge"
    claimed.data["reserved"] = True
    entries = [
        HistoryEntry("reserve", Phase.ACTION, Outcome.SUCCEEDED, 1, NOW),
        HistoryEntry("charge", Phase.ACTION, Outcome.ERRORED, 1, NOW, "ConnectionError: down"),
    ]

    assert await store.save(claimed, "worker", entries[0])
    assert await store.save(claimed, "worker", entries[1])

    assert await store.history(saga.id) == entries
    stored = await store.get(saga.id)
    assert stored is not None
    assert (stored.step_name, stored.data["reserved"]) == ("charge", True)


async def test_a_saga_and_its_history_are_read_together(store: SqlSagaStore) -> None:
    fresh, _ = await store.create(_saga())
    saga, _ = await store.create(_saga())
    claimed = await store.claim(saga.id, "worker", NOW, NOW + timedelta(seconds=10))
    assert claimed is not None
    entries = [
        HistoryEntry("reserve", Phase.ACTION, Outcome.SUCCEEDED, 1, NOW),
        HistoryEntry("charge", Phase.ACTION, Outcome.TIMED_OUT, 1, NOW, "no outcome within 5 s"),
    ]
    for entry in entries:
        assert await store.save(claimed, "worker", entry)

    assert await store.get_with_history(saga.id) == (await store.get(saga.id), entries)
    assert await store.get_with_history(fresh.id) == (fresh, [])
    assert await store.get_with_history(str(uuid.uuid4())) is None


async def test_one_idempotency_key_is_one_saga_however_many_start_it(
    store: SqlSagaStore,
) -> None:
    created = await asyncio.gather(*(store.create(_saga("key-1")) for _ in range(WORKERS)))

    assert sum(1 for _, new in created if new) == 1
    assert len({saga.id for saga, _ in created}) == 1
    assert len(await store.recent(status=None, saga_type="order", limit=50)) == 1


async def test_only_due_sagas_nobody_holds_are_offered(store: SqlSagaStore) -> None:
    due, _ = await store.create(_saga())
    later, _ = await store.create(_saga(due=NOW + timedelta(minutes=5)))
    held, _ = await store.create(_saga())
    done, _ = await store.create(_saga())
    await store.claim(held.id, "worker", NOW, NOW + timedelta(seconds=30))
    finished = await store.claim(done.id, "worker", NOW, NOW + timedelta(seconds=30))
    assert finished is not None
    finished.status, finished.owner = SagaStatus.COMPLETED, None
    assert await store.save(finished, "worker")

    assert await store.due(NOW, 10) == [due.id]
    assert set(await store.due(NOW + timedelta(minutes=10), 10)) == {due.id, later.id, held.id}


async def test_workers_polling_at_once_claim_each_due_saga_exactly_once(
    store: SqlSagaStore,
) -> None:
    waiting = [(await store.create(_saga()))[0] for _ in range(12)]
    held, _ = await store.create(_saga())
    later, _ = await store.create(_saga(due=NOW + timedelta(minutes=5)))
    lease = NOW + timedelta(hours=1)
    await store.claim(held.id, "another", NOW, lease)

    polls = await asyncio.gather(
        *(store.claim_due(f"worker-{n}", NOW, lease, 3) for n in range(WORKERS))
    )

    claimed = [saga for poll in polls for saga in poll]
    assert all(len(poll) <= 3 for poll in polls)
    assert sorted(saga.id for saga in claimed) == sorted(saga.id for saga in waiting)
    for saga in claimed:
        stored = await store.get(saga.id)
        assert stored is not None
        assert (stored.owner, stored.lease_expires_at) == (saga.owner, lease)
    assert await store.claim_due("late", NOW, lease, 10) == []
    assert [
        saga.id for saga in await store.claim_due("late", NOW + timedelta(minutes=10), lease, 10)
    ] == [later.id]
