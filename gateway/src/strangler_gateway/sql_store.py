"""Flags as data: durable in the gateway's own database, audited, followed by polling.

Each gateway replica keeps the whole flag set in memory and re-reads it every
``poll_seconds`` (0.5 s by default). The set is a handful of rows, so a full re-read is
cheaper and simpler than change notification, works the same on SQLite and PostgreSQL, and
bounds how stale a replica can be: a change reaches every replica within one poll. The
polling is ``follow``, run by the gateway as its supervised ``flag-poller`` loop (app.py).

Every change writes the new value and its audit row in one transaction. The tables come from
the gateway's migrations (``strangler-gateway migrate``); the store never creates them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from local_processes import stopped_within
from sqlalchemy import Boolean, Integer, String, Text, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from strangler_flags import FlagState, RouteFlag, flag_from_document, flag_to_document
from strangler_persistence import UTCDateTime, create_session_factory, utcnow

from strangler_gateway.store import KILL_SWITCH_SUBJECT, AuditEntry

__all__ = ["FlagTablesMissing", "SqlFlagStore"]

KILL_SWITCH_ROW = 1


class FlagTablesMissing(RuntimeError):
    """The gateway's database lacks its flag tables: ``strangler-gateway migrate`` was not run."""


class Base(DeclarativeBase):
    pass


class RouteFlagRow(Base):
    __tablename__ = "route_flags"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KillSwitchRow(Base):
    __tablename__ = "kill_switch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    on: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FlagAuditRow(Base):
    __tablename__ = "flag_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    who: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(100), index=True)
    old: Mapped[str | None] = mapped_column(Text, nullable=True)
    new: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


_FLAG_ROWS = select(RouteFlagRow.name, RouteFlagRow.document).order_by(RouteFlagRow.name)
_KILL_SWITCH = select(KillSwitchRow.on).where(KillSwitchRow.id == KILL_SWITCH_ROW)


class SqlFlagStore:
    """A ``FlagStore`` on SQLAlchemy; several gateways may share one database."""

    def __init__(self, engine: AsyncEngine, *, poll_seconds: float = 0.5) -> None:
        self._engine = engine
        self._sessions = create_session_factory(engine)
        self._poll_seconds = poll_seconds
        self._state = FlagState()
        self._seen: tuple[tuple[tuple[str, str], ...], bool] | None = None

    async def start(self) -> None:
        await self._require_tables()
        await self.refresh()

    async def close(self) -> None:
        await self._engine.dispose()

    def current(self) -> FlagState:
        return self._state

    async def _require_tables(self) -> None:
        async with self._engine.connect() as connection:
            present = await connection.run_sync(_table_names)
        missing = sorted(set(Base.metadata.tables) - present)
        if missing:
            where = self._engine.url.render_as_string(hide_password=True)
            raise FlagTablesMissing(
                f"the flag tables {', '.join(missing)} are missing from {where}: "
                "run `strangler-gateway migrate` first"
            )

    async def refresh(self) -> None:
        """Re-read every flag and the kill switch into the in-memory snapshot.

        Core statements on one connection, not ORM sessions: this runs twice a second in
        every replica, and the snapshot is rebuilt only when the rows changed.
        """
        async with self._engine.connect() as connection:
            rows = (await connection.execute(_FLAG_ROWS)).all()
            switch = (await connection.execute(_KILL_SWITCH)).scalar()
        seen = (tuple((row.name, row.document) for row in rows), bool(switch))
        if seen == self._seen:
            return
        flags = {name: flag_from_document(json.loads(document)) for name, document in seen[0]}
        self._state = FlagState(MappingProxyType(flags), seen[1])
        self._seen = seen

    async def follow(self, stop: asyncio.Event) -> None:
        """Re-read the flags every ``poll_seconds`` until ``stop`` is set.

        A refresh that fails (the database unreachable) ends the run: routing goes on with the
        last known flags, and the supervisor logs why, names ``flag-poller`` on
        ``/health/ready`` until it runs again, and starts it again after a backoff.
        """
        while not await stopped_within(stop, self._poll_seconds):
            await self.refresh()

    async def set_flag(self, name: str, flag: RouteFlag, *, who: str, reason: str) -> None:
        new = flag_to_document(flag)
        async with self._sessions.begin() as session:
            row = await session.get(RouteFlagRow, name, with_for_update=True)
            old = json.loads(row.document) if row else None
            if row is None:
                session.add(RouteFlagRow(name=name, document=json.dumps(new), updated_at=utcnow()))
            else:
                row.document = json.dumps(new)
                row.updated_at = utcnow()
            _audit(session, who, name, old, new, reason)
        await self.refresh()

    async def set_kill_switch(self, on: bool, *, who: str, reason: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(KillSwitchRow, KILL_SWITCH_ROW, with_for_update=True)
            old = {"on": row.on} if row else None
            if row is None:
                session.add(KillSwitchRow(id=KILL_SWITCH_ROW, on=on, updated_at=utcnow()))
            else:
                row.on = on
                row.updated_at = utcnow()
            _audit(session, who, KILL_SWITCH_SUBJECT, old, {"on": on}, reason)
        await self.refresh()

    async def history(self, subject: str | None = None, limit: int = 100) -> Sequence[AuditEntry]:
        statement = select(FlagAuditRow).order_by(FlagAuditRow.id.desc()).limit(limit)
        if subject is not None:
            statement = statement.where(FlagAuditRow.subject == subject)
        async with self._sessions() as session:
            rows = (await session.scalars(statement)).all()
        return [
            AuditEntry(
                at=row.at,
                who=row.who,
                subject=row.subject,
                old=json.loads(row.old) if row.old else None,
                new=json.loads(row.new),
                reason=row.reason,
            )
            for row in rows
        ]


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _audit(
    session: AsyncSession,
    who: str,
    subject: str,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    reason: str,
) -> None:
    session.add(
        FlagAuditRow(
            at=utcnow(),
            who=who,
            subject=subject,
            old=json.dumps(old) if old is not None else None,
            new=json.dumps(new),
            reason=reason,
        )
    )
