"""A step that writes in the transaction the SQL saga store lends it (``StepContext.transaction``)
has its changes committed with its outcome, one commit, on both databases a service may run
on: a step that fails, or whose worker lost the lease meanwhile, leaves none of its changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from strangler_sagas import (
    BusinessFailure,
    Outcome,
    SagaDefinition,
    SagaOrchestrator,
    SagaStatus,
    SqlSagaStore,
    Step,
    StepContext,
)

from tests.integration.sagas.conftest import SagaDatabase

pytestmark = pytest.mark.integration


@dataclass
class Database:
    engine: AsyncEngine
    store: SqlSagaStore
    effects: Table

    async def effect_ids(self) -> list[str]:
        async with self.engine.connect() as connection:
            return list((await connection.scalars(select(self.effects.c.id))).all())


@pytest.fixture
async def database(saga_database: SagaDatabase) -> Database:
    """The saga tables and, beside them, a table of the steps' own changes."""
    effects = Table("effects", MetaData(), Column("id", String(36), primary_key=True))
    async with saga_database.engine.begin() as connection:
        await connection.run_sync(effects.create)
    return Database(saga_database.engine, saga_database.store, effects)


def _one_step(action: Any) -> SagaDefinition:
    return SagaDefinition("order", (Step("write", action, None, timeout_seconds=10),))


async def _write_effect(database: Database, context: StepContext) -> None:
    session: AsyncSession = context.transaction
    await session.execute(insert(database.effects).values(id=context.saga_id))


async def test_a_step_s_changes_commit_with_its_outcome(database: Database) -> None:
    async def write(context: StepContext) -> Mapping[str, Any]:
        assert isinstance(context.transaction, AsyncSession)
        await _write_effect(database, context)
        return {"written": True}

    sagas = SagaOrchestrator(database.store, [_one_step(write)])
    started = await sagas.start("order", {})

    ended = await sagas.drive(started.saga.id)

    assert ended is not None
    assert ended.status is SagaStatus.COMPLETED
    assert await database.effect_ids() == [started.saga.id]
    found = await database.store.get_with_history(started.saga.id)
    assert found is not None
    saga, history = found
    assert (saga.status, saga.data) == (SagaStatus.COMPLETED, {"written": True})
    assert [entry.outcome for entry in history] == [Outcome.SUCCEEDED]


async def test_a_step_that_fails_after_writing_leaves_none_of_its_changes(
    database: Database,
) -> None:
    async def write_then_refuse(context: StepContext) -> None:
        await _write_effect(database, context)
        raise BusinessFailure("refused after writing")

    sagas = SagaOrchestrator(database.store, [_one_step(write_then_refuse)])
    started = await sagas.start("order", {})

    ended = await sagas.drive(started.saga.id)

    assert ended is not None
    assert (ended.status, ended.failure) == (SagaStatus.COMPENSATED, "write: refused after writing")
    assert await database.effect_ids() == []
    history = await database.store.history(started.saga.id)
    assert [(entry.outcome, entry.error) for entry in history] == [
        (Outcome.FAILED, "refused after writing")
    ]


async def test_a_worker_that_lost_its_lease_mid_step_commits_none_of_it(
    database: Database,
) -> None:
    sagas_table = database.store._sagas  # the thief writes the row as another worker would

    async def write_while_another_takes_over(context: StepContext) -> None:
        # The lease expired while the step ran: another worker took the saga over. (Before the
        # step's write: SQLite's one writer would wait for the step's transaction to end.)
        async with database.engine.begin() as connection:
            await connection.execute(
                update(sagas_table).where(sagas_table.c.id == context.saga_id).values(owner="thief")
            )
        await _write_effect(database, context)

    sagas = SagaOrchestrator(database.store, [_one_step(write_while_another_takes_over)])
    started = await sagas.start("order", {})

    assert await sagas.drive(started.saga.id) is None

    assert await database.effect_ids() == []
    found = await database.store.get_with_history(started.saga.id)
    assert found is not None
    saga, history = found
    assert (saga.status, saga.owner, saga.step_name, history) == (
        SagaStatus.RUNNING,
        "thief",
        "write",
        [],
    )
