"""Applying a record change from the other side: an idempotent, versioned upsert.

The change is written with plain SQL on the side's table, below its domain model, on
purpose: the other side already applied its business rules, and writing below the domain
records no domain event, so the change is not published again as this side's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts.records import RecordChange
from strangler_persistence import utcnow

from strangler_migration.conflicts import Stamp, incoming_wins
from strangler_migration.tables import TableBinding

__all__ = ["Applied", "ChangeRefused", "MissingRecord", "apply_change"]


class Applied(StrEnum):
    INSERTED = "inserted"
    UPDATED = "updated"
    SKIPPED = "skipped"


class MissingRecord(LookupError):
    """A change that only updates names a record this side does not hold (yet)."""

    def __init__(self, change: RecordChange) -> None:
        super().__init__(
            f"{change.entity} '{change.id}' is not here yet: version {change.version} "
            f"from {change.origin} updates it but cannot create it"
        )


class ChangeRefused(Exception):
    """The database refused the change: it names a record this side does not hold (a
    customer whose registration has not arrived yet), or breaks a rule of this side.

    Deliberately not an ``IntegrityError``: the idempotent consumer takes those for a
    concurrent duplicate and would skip the event instead of retrying it.
    """

    def __init__(self, change: RecordChange, reason: IntegrityError) -> None:
        super().__init__(
            f"{change.entity} '{change.id}' version {change.version} from {change.origin} was "
            f"refused: {str(reason.orig).splitlines()[0]}"
        )


async def apply_change(
    session: AsyncSession, binding: TableBinding, change: RecordChange, precedence: Sequence[str]
) -> Applied:
    """Write ``change`` if it wins against the stored record (``conflicts``), in the
    session's transaction; the stored record keeps the change's version and origin.

    The stored row is locked while deciding (PostgreSQL), so a concurrent writer of the
    same record waits and then decides against what this one wrote.
    """
    try:
        return await _apply(session, binding, change, precedence)
    except IntegrityError as refused:
        raise ChangeRefused(change, refused) from None


async def _apply(
    session: AsyncSession, binding: TableBinding, change: RecordChange, precedence: Sequence[str]
) -> Applied:
    if binding.version_column is None or binding.origin_column is None:
        raise TypeError(f"{binding.entity} is read-only on this side: it has no version")
    stamp: dict[str, Any] = {
        binding.version_column: change.version,
        binding.origin_column: change.origin,
    }
    if binding.touched_column is not None:
        stamp[binding.touched_column] = utcnow()
    local = await _locked_stamp(session, binding, change.id)
    if local is None:
        if not change.complete:
            raise MissingRecord(change)
        values = {binding.key: change.id, **binding.column_values(change.fields), **stamp}
        if await _inserted(session, binding.table, binding.key, values):
            return Applied.INSERTED
        local = await _locked_stamp(session, binding, change.id)  # inserted concurrently
        assert local is not None
    if not incoming_wins(local, change, precedence):
        return Applied.SKIPPED
    await session.execute(
        update(binding.table)
        .where(binding.key_column == change.id)
        .values(**binding.column_values(change.fields), **stamp)
    )
    return Applied.UPDATED


async def _locked_stamp(session: AsyncSession, binding: TableBinding, key: str) -> Stamp | None:
    version, origin = binding.stamp_columns()
    statement = select(version, origin).where(binding.key_column == key).with_for_update()
    row = (await session.execute(statement)).first()
    return None if row is None else Stamp(*row)


async def _inserted(session: AsyncSession, table: Table, key: str, values: dict[str, Any]) -> bool:
    """Insert unless the key exists (a concurrent insert won); whether this one did."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
    else:
        raise NotImplementedError(f"no idempotent insert for {dialect}")
    result = await session.execute(statement.values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]
