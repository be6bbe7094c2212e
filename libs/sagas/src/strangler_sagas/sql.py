"""Sagas in the owning service's own database: two tables and the store on them.

``saga_tables(metadata)`` adds ``sagas`` and ``saga_history`` to the service's metadata, so
its migrations create them next to its own tables, as ``outbox_table`` does for the outbox.

Claiming is one conditional ``UPDATE … WHERE id = ? AND (owner IS NULL OR lease_expires_at
< now)``: the database applies it to one row atomically on SQLite and on PostgreSQL (where a
concurrent claim waits for the first to commit, then finds the row taken), so of two workers
racing for a saga exactly one gets it, without advisory locks or ``SELECT … FOR UPDATE``.

The writes of a running saga are its hot path (one per step, a claim per saga, a renewal per
few seconds), and on a loaded machine each round trip to the database costs more than the
Python around it. So each is one statement in autocommit — no ``BEGIN``/``COMMIT`` round
trips: a claim is an ``UPDATE … RETURNING`` of the row it took; on PostgreSQL a step's outcome
and its history entry are written by one statement (the ``UPDATE … RETURNING`` fenced by the
lease, as a CTE feeding the history's ``INSERT … SELECT``: both or neither), and on SQLite
they stay two statements in one transaction. Reads are single statements in autocommit too;
a saga with its history (what a checkout's ``GET`` shows) is one ``LEFT JOIN``, so the two
come from one snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_persistence import SessionFactory, UTCDateTime

from strangler_sagas.state import IN_FLIGHT, HistoryEntry, Outcome, Phase, SagaState, SagaStatus

__all__ = ["SagaTables", "SqlSagaStore", "saga_tables"]

_IN_FLIGHT = sorted(status.value for status in IN_FLIGHT)


@dataclass(frozen=True)
class SagaTables:
    sagas: Table
    history: Table


def saga_tables(metadata: MetaData, prefix: str = "saga") -> SagaTables:
    """The saga tables, added to a deployable's own metadata (and so to its migrations).

    ``<prefix>s`` holds one row per saga; ``<prefix>_history`` one row per attempt, in
    ``position`` order.
    """
    sagas_name, history_name = f"{prefix}s", f"{prefix}_history"
    sagas = Table(
        sagas_name,
        metadata,
        Column("id", String(36), primary_key=True),
        Column("saga_type", String(100), nullable=False),
        Column("status", String(30), nullable=False),
        Column("step_index", Integer, nullable=False),
        Column("step_name", String(100), nullable=True),
        Column("data", JSON, nullable=False),
        Column("failure", Text, nullable=True),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", UTCDateTime(), nullable=False),
        Column("attempt_started_at", UTCDateTime(), nullable=True),
        Column("owner", String(200), nullable=True),
        Column("lease_expires_at", UTCDateTime(), nullable=True),
        Column("idempotency_key", String(255), nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        UniqueConstraint(
            "saga_type", "idempotency_key", name=f"uq_{sagas_name}_saga_type_idempotency_key"
        ),
        Index(f"ix_{sagas_name}_due", "status", "next_attempt_at"),
        Index(f"ix_{sagas_name}_updated_at", "updated_at"),
    )
    history = Table(
        history_name,
        metadata,
        Column(
            "position",
            BigInteger().with_variant(Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column(
            "saga_id",
            String(36),
            ForeignKey(f"{sagas_name}.id", name=f"fk_{history_name}_saga_id_{sagas_name}"),
            nullable=False,
        ),
        Column("step", String(100), nullable=False),
        Column("phase", String(20), nullable=False),
        Column("outcome", String(20), nullable=False),
        Column("attempt", Integer, nullable=False),
        Column("error", Text, nullable=True),
        Column("at", UTCDateTime(), nullable=False),
        Index(f"ix_{history_name}_saga_id", "saga_id", "position"),
    )
    return SagaTables(sagas, history)


class SqlSagaStore:
    """The ``SagaStore`` on SQLAlchemy: each call is one short transaction of its own."""

    def __init__(self, sessions: SessionFactory, tables: SagaTables) -> None:
        self._sessions = sessions
        self._sagas = tables.sagas
        self._history = tables.history

    async def create(self, saga: SagaState) -> tuple[SagaState, bool]:
        """One ``INSERT`` in autocommit; a saga already holding the idempotency key makes it
        fail on the unique constraint, and that saga is answered (the orchestrator looked for
        it first: this is the race of two requests with one key)."""
        try:
            async with self._sessions() as session:
                connection = await session.connection(execution_options=_AUTOCOMMIT)
                await connection.execute(insert(self._sagas).values(**_row(saga)))
        except IntegrityError:
            # A concurrent request with the same key got there first: answer its saga.
            if saga.idempotency_key is None:
                raise
            existing = await self.find(saga.saga_type, saga.idempotency_key)
            if existing is None:
                raise
            return existing, False
        return saga, True

    async def find(self, saga_type: str, idempotency_key: str) -> SagaState | None:
        c = self._sagas.c
        statement = select(self._sagas).where(
            c.saga_type == saga_type, c.idempotency_key == idempotency_key
        )
        return await self._one(statement)

    async def get(self, saga_id: str) -> SagaState | None:
        return await self._one(select(self._sagas).where(self._sagas.c.id == saga_id))

    async def history(self, saga_id: str) -> list[HistoryEntry]:
        c = self._history.c
        rows = await self._rows(
            select(self._history).where(c.saga_id == saga_id).order_by(c.position)
        )
        return [_entry(row) for row in rows]

    async def get_with_history(self, saga_id: str) -> tuple[SagaState, list[HistoryEntry]] | None:
        """One statement: the saga's row joined to its history entries, oldest first."""
        h = self._history.c
        entry_columns = [h.step, h.phase, h.outcome, h.attempt, h.error, h.at]
        labelled = [column.label(f"history_{column.name}") for column in entry_columns]
        rows = await self._rows(
            select(self._sagas, *labelled)
            .select_from(self._sagas.outerjoin(self._history, h.saga_id == self._sagas.c.id))
            .where(self._sagas.c.id == saga_id)
            .order_by(h.position)
        )
        if not rows:
            return None
        entries = [
            HistoryEntry(
                step=row.history_step,
                phase=Phase(row.history_phase),
                outcome=Outcome(row.history_outcome),
                attempt=row.history_attempt,
                at=row.history_at,
                error=row.history_error,
            )
            for row in rows
            if row.history_step is not None
        ]
        return _state(rows[0]), entries

    async def due(self, now: datetime, limit: int) -> list[str]:
        c = self._sagas.c
        rows = await self._rows(
            select(c.id)
            .where(c.status.in_(_IN_FLIGHT), c.next_attempt_at <= now, _free(c, now))
            .order_by(c.next_attempt_at, c.id)
            .limit(limit)
        )
        return [row.id for row in rows]

    async def claim(
        self, saga_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> SagaState | None:
        c = self._sagas.c
        async with self._sessions() as session:
            connection = await session.connection(execution_options=_AUTOCOMMIT)
            row = (
                await connection.execute(
                    update(self._sagas)
                    .where(c.id == saga_id, c.status.in_(_IN_FLIGHT), _free(c, now))
                    .values(owner=owner, lease_expires_at=lease_until)
                    .returning(*self._sagas.c)
                )
            ).first()
            return _state(row) if row is not None else None

    async def save(self, saga: SagaState, owner: str, entry: HistoryEntry | None = None) -> bool:
        c = self._sagas.c
        values = _row(saga)
        del values["id"]
        fenced = update(self._sagas).where(c.id == saga.id, c.owner == owner).values(**values)
        async with self._sessions() as session:
            if entry is None or session.get_bind().dialect.name == "postgresql":
                connection = await session.connection(execution_options=_AUTOCOMMIT)
                if entry is None:
                    return _rowcount(await connection.execute(fenced)) == 1
                saved = fenced.returning(c.id).cte("saved")
                appended = await connection.execute(
                    insert(self._history).from_select(
                        ["saga_id", "step", "phase", "outcome", "attempt", "error", "at"],
                        select(
                            saved.c.id,
                            literal(entry.step),
                            literal(entry.phase.value),
                            literal(entry.outcome.value),
                            literal(entry.attempt),
                            literal(entry.error, Text()),
                            literal(entry.at, UTCDateTime()),
                        ),
                    )
                )
                return _rowcount(appended) == 1
            async with session.begin():
                if _rowcount(await session.execute(fenced)) != 1:
                    return False
                await _append(session, self._history, saga.id, entry)
        return True

    async def renew(self, saga_id: str, owner: str, lease_until: datetime) -> bool:
        c = self._sagas.c
        async with self._sessions() as session:
            connection = await session.connection(execution_options=_AUTOCOMMIT)
            renewed = await connection.execute(
                update(self._sagas)
                .where(c.id == saga_id, c.owner == owner)
                .values(lease_expires_at=lease_until)
            )
            return _rowcount(renewed) == 1

    async def release(self, saga_id: str, owner: str) -> None:
        c = self._sagas.c
        async with self._sessions() as session:
            connection = await session.connection(execution_options=_AUTOCOMMIT)
            await connection.execute(
                update(self._sagas)
                .where(c.id == saga_id, c.owner == owner)
                .values(owner=None, lease_expires_at=None)
            )

    async def recent(
        self, *, status: SagaStatus | None, saga_type: str | None, limit: int
    ) -> list[SagaState]:
        c = self._sagas.c
        statement = select(self._sagas).order_by(c.updated_at.desc(), c.id).limit(limit)
        if status is not None:
            statement = statement.where(c.status == status.value)
        if saga_type is not None:
            statement = statement.where(c.saga_type == saga_type)
        return [_state(row) for row in await self._rows(statement)]

    async def _one(self, statement: Any) -> SagaState | None:
        rows = await self._rows(statement)
        return _state(rows[0]) if rows else None

    async def _rows(self, statement: Any) -> list[Row[Any]]:
        """A read in autocommit: one round trip, no ``BEGIN`` or ``ROLLBACK`` around it."""
        async with self._sessions() as session:
            connection = await session.connection(execution_options=_AUTOCOMMIT)
            return list((await connection.execute(statement)).all())


_AUTOCOMMIT: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
"""One statement, committed on its own: no BEGIN and COMMIT round trips."""


def _free(c: Any, now: datetime) -> Any:
    return or_(c.owner.is_(None), c.lease_expires_at.is_(None), c.lease_expires_at < now)


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count


async def _append(session: AsyncSession, history: Table, saga_id: str, entry: HistoryEntry) -> None:
    await session.execute(
        insert(history).values(
            saga_id=saga_id,
            step=entry.step,
            phase=entry.phase.value,
            outcome=entry.outcome.value,
            attempt=entry.attempt,
            error=entry.error,
            at=entry.at,
        )
    )


def _entry(row: Row[Any]) -> HistoryEntry:
    return HistoryEntry(
        step=row.step,
        phase=Phase(row.phase),
        outcome=Outcome(row.outcome),
        attempt=row.attempt,
        at=row.at,
        error=row.error,
    )


def _row(saga: SagaState) -> dict[str, Any]:
    return {
        "id": saga.id,
        "saga_type": saga.saga_type,
        "status": saga.status.value,
        "step_index": saga.step_index,
        "step_name": saga.step_name,
        "data": saga.data,
        "failure": saga.failure,
        "attempts": saga.attempts,
        "next_attempt_at": saga.next_attempt_at,
        "attempt_started_at": saga.attempt_started_at,
        "owner": saga.owner,
        "lease_expires_at": saga.lease_expires_at,
        "idempotency_key": saga.idempotency_key,
        "created_at": saga.created_at,
        "updated_at": saga.updated_at,
    }


def _state(row: Row[Any]) -> SagaState:
    return SagaState(
        id=row.id,
        saga_type=row.saga_type,
        status=SagaStatus(row.status),
        step_index=row.step_index,
        step_name=row.step_name,
        data=dict(row.data),
        failure=row.failure,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        attempt_started_at=row.attempt_started_at,
        owner=row.owner,
        lease_expires_at=row.lease_expires_at,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
