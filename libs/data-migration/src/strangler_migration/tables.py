"""Where one side keeps each entity's records, and reading them as records: export pages,
checksums, look-ups and counts.

A ``TableBinding`` names the table of an entity and the columns of its record fields (the
record's names, unless ``renamed``). A table without ``version`` or ``origin`` columns —
data that only one side ever writes, like the monolith's users — holds every record at
version 1, made by ``fixed_origin``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Row,
    Select,
    Table,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from strangler_contracts.records import FIRST_VERSION

from strangler_migration.canonical import canonical_fields, record_checksum
from strangler_migration.wire import EntityChecksums, ExportedRecord, ExportPage, RecordSummary

__all__ = ["SqlRecords", "TableBinding", "UnknownEntity"]


class UnknownEntity(LookupError):
    def __init__(self, entity: str, known: Sequence[str]) -> None:
        super().__init__(f"no entity '{entity}'; there are {', '.join(known)}")
        self.entity = entity


@dataclass(frozen=True)
class TableBinding:
    """How the records of ``entity`` sit in ``table``, on one side."""

    entity: str
    table: Table
    fields: tuple[str, ...]
    renamed: Mapping[str, str] = field(default_factory=dict)
    """Record field → column name, where the side names it otherwise."""
    version_column: str | None = "version"
    origin_column: str | None = "origin"
    fixed_origin: str = ""
    key: str = "id"
    touched_column: str | None = None
    """A column outside the record that the sync sets to the time it wrote the row (a side's
    own ``updated_at``), so the row never lacks it."""

    def column(self, name: str) -> Column[Any]:
        return self.table.c[self.renamed.get(name, name)]

    @property
    def key_column(self) -> Column[Any]:
        return self.table.c[self.key]

    @property
    def writable(self) -> bool:
        return self.version_column is not None and self.origin_column is not None

    def stamp_columns(self) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        version: ColumnElement[Any] = (
            self.table.c[self.version_column] if self.version_column else literal(FIRST_VERSION)
        )
        origin: ColumnElement[Any] = (
            self.table.c[self.origin_column] if self.origin_column else literal(self.fixed_origin)
        )
        return version, origin

    def select_records(self) -> Select[Any]:
        version, origin = self.stamp_columns()
        return select(
            self.key_column.label("id"),
            version.label("version"),
            origin.label("origin"),
            *(self.column(name).label(name) for name in self.fields),
        )

    def record(self, row: Row[Any]) -> ExportedRecord:
        values = row._mapping
        return ExportedRecord(
            id=values["id"],
            version=values["version"],
            origin=values["origin"],
            data=canonical_fields({name: values[name] for name in self.fields}),
        )

    def column_values(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The record ``fields`` as column values; canonical timestamps become datetimes."""
        values: dict[str, Any] = {}
        for name, value in fields.items():
            column = self.column(name)
            if isinstance(value, str) and _holds_datetimes(column):
                value = datetime.fromisoformat(value)
            values[column.name] = value
        return values


def _holds_datetimes(column: Column[Any]) -> bool:
    kind = column.type
    return isinstance(kind, DateTime) or isinstance(getattr(kind, "impl_instance", None), DateTime)


class SqlRecords:
    """One side's billing data, read as records through its bindings."""

    def __init__(self, engine: AsyncEngine, bindings: Sequence[TableBinding]) -> None:
        self.engine = engine
        self.bindings = {binding.entity: binding for binding in bindings}

    def binding(self, entity: str) -> TableBinding:
        try:
            return self.bindings[entity]
        except KeyError:
            raise UnknownEntity(entity, list(self.bindings)) from None

    async def export_page(self, entity: str, after: str | None, limit: int) -> ExportPage:
        """Up to ``limit`` records after id ``after``, in id order (keyset paging).

        Ordering by the primary key keeps a page stable while rows are added elsewhere: a
        record created behind the cursor is not seen by this scan, and reaches the other
        side by its event instead.
        """
        binding = self.binding(entity)
        statement = binding.select_records().order_by(binding.key_column).limit(limit + 1)
        if after is not None:
            statement = statement.where(binding.key_column > after)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all() if limit > 0 else []
            total = await _count(connection, binding.table)
        records = [binding.record(row) for row in rows[:limit]]
        more = len(rows) > limit
        return ExportPage(
            entity=entity,
            records=records,
            next_cursor=records[-1].id if more and records else None,
            total=total,
        )

    async def checksums(self, entity: str) -> EntityChecksums:
        binding = self.binding(entity)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(binding.select_records())).all()
        summaries = {}
        for row in rows:
            record = binding.record(row)
            summaries[record.id] = RecordSummary(
                version=record.version, origin=record.origin, checksum=record_checksum(record.data)
            )
        return EntityChecksums(entity=entity, count=len(summaries), records=summaries)

    async def lookup(self, entity: str, ids: Sequence[str]) -> list[ExportedRecord]:
        binding = self.binding(entity)
        statement = binding.select_records().where(binding.key_column.in_(list(ids)))
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement.order_by(binding.key_column))).all()
        return [binding.record(row) for row in rows]

    async def counts(self) -> dict[str, int]:
        async with self.engine.connect() as connection:
            return {
                entity: await _count(connection, binding.table)
                for entity, binding in self.bindings.items()
            }


async def _count(connection: AsyncConnection, table: Table) -> int:
    return int(await connection.scalar(select(func.count()).select_from(table)) or 0)
