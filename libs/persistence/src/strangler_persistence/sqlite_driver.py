"""SQLite through aiosqlite with one thread hop per statement, not five.

aiosqlite runs each call on the connection's own thread, and SQLAlchemy's adapter makes one
call per step: open a cursor, execute, fetch the rows, close the cursor, and at the end of
every session a rollback. Each hop is a queue put, a thread wake-up and a callback back into
the event loop, and under load those wake-ups cost more than SQLite's own work (a three-row
read measured ~0.7 ms of CPU, most of it in hops). Here a statement is one hop: the cursor
is opened, executed, read whole and closed on the connection's thread; and a rollback or
commit with no transaction open (what a read leaves) makes none, since the thread reports
whether a transaction is open after every statement.

A read makes no hop at all: while a ``strangler_persistence.reading`` block (or
``read_page``) holds the connection, a ``SELECT`` with no transaction open runs on the event
loop's own thread. In WAL mode such a read waits for no lock, and a request's read is a few
tens of µs of SQLite's work against a hop's wake-ups on both sides; a statement in a
transaction, a write, or anything outside such a block still goes to the connection's
thread (a write may wait for the write lock: never on the event loop). The connection is
opened with ``check_same_thread=False`` for it; SQLite serialises its use by both threads.

``create_engine`` passes :data:`ONE_HOP_AIOSQLITE` as the dialect's DBAPI module
(``create_async_engine(..., module=...)``); everything else is SQLAlchemy's own aiosqlite
dialect.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

__all__ = ["ONE_HOP_AIOSQLITE"]

_Outcome = tuple[Any, list[Any] | None, int, int | None, bool]
"""description, rows (None without a result set), rowcount, lastrowid, in_transaction."""


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


def _end(connection: sqlite3.Connection, commit: bool) -> None:
    if commit:
        connection.commit()
    else:
        connection.rollback()


class OneHopCursor:
    """A DBAPI cursor whose ``execute`` is one call on the connection's thread; the rows are
    kept here, so fetching makes no call at all."""

    server_side = False

    def __init__(self, adapt_connection: OneHopConnection) -> None:
        self._adapt_connection = adapt_connection
        self._rows: collections.deque[Any] = collections.deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def _call(self, operation: str, parameters: Any, many: bool) -> None:
        connection = self._adapt_connection
        try:
            if not many and connection.may_read_here(operation):
                statement = connection.read_here(operation, parameters)
            else:
                statement = connection.run_statement(operation, parameters, many)
            outcome: _Outcome = await_(statement)
        except Exception as error:
            connection.transaction_open = True  # a failed statement may have begun one
            connection._handle_exception(error)
        self.description, rows, self.rowcount, self.lastrowid, open_ = outcome
        self._rows = collections.deque(rows or ())
        connection.transaction_open = open_

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._call(operation, parameters, many=False)

    def executemany(self, operation: str, seq_of_parameters: Any) -> None:
        self._call(operation, seq_of_parameters, many=True)

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection with :class:`OneHopCursor`, and no hop to end a
    transaction that is not open."""

    __slots__ = ("reads_here", "transaction_open")

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.transaction_open = True
        """Whether the thread last saw a transaction open (unknown, so true, at first)."""
        self.reads_here = False
        """Whether a ``SELECT`` outside a transaction runs on the caller's thread, no hop
        (``strangler_persistence.reading`` sets it while its block runs)."""

    def may_read_here(self, operation: str) -> bool:
        """Whether ``operation`` runs on the event loop's own thread: a ``SELECT`` of a
        ``reading`` block with no transaction open, which in WAL mode waits for no lock,
        while no hop to the connection's thread is under way."""
        return (
            self.reads_here
            and not self.transaction_open
            and operation.startswith("SELECT")
            and not self._execute_mutex.locked()
        )

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            return super().cursor(server_side=True)
        return OneHopCursor(self)

    async def read_here(self, operation: str, parameters: Any) -> _Outcome:
        """Run a read on this thread: awaited, as SQLAlchemy's async layer requires, but it
        never suspends."""
        return _run(self._connection._conn, operation, parameters, False)

    async def run_statement(self, operation: str, parameters: Any, many: bool) -> _Outcome:
        async with self._execute_mutex:
            connection = self._connection
            outcome: _Outcome = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
            return outcome

    def _end(self, commit: bool) -> None:
        if not self.transaction_open or not self._connection._connection:
            return
        connection = self._connection
        try:
            await_(connection._execute(_end, connection._conn, commit))
        except Exception as error:
            self._handle_exception(error)
        self.transaction_open = False

    def rollback(self) -> None:
        self._end(commit=False)

    def commit(self) -> None:
        self._end(commit=True)


class _OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


ONE_HOP_AIOSQLITE = _OneHopDBAPI(aiosqlite, sqlite3)
