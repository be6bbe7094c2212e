"""Engines for SQLite (embedded profile) or PostgreSQL (asyncpg), UTC timestamps, pagination."""

from __future__ import annotations

import collections
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import DateTime, Integer, Row, Select, bindparam, event, func, select
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util.concurrency import greenlet_spawn

from strangler_persistence.sqlite_driver import ONE_HOP_AIOSQLITE, OneHopConnection

__all__ = [
    "PING_AFTER_IDLE_SECONDS",
    "POOL_OVERFLOW",
    "POOL_SIZE",
    "POOL_TIMEOUT_SECONDS",
    "SessionFactory",
    "UTCDateTime",
    "create_engine",
    "create_session_factory",
    "paginate",
    "paginate_rows",
    "read_page",
    "reading",
    "utcnow",
]

SessionFactory = async_sessionmaker[AsyncSession]
Entity = TypeVar("Entity")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


POOL_SIZE: Final = 16
POOL_OVERFLOW: Final = 4
"""Connections kept, and opened beyond them under a burst. As many are kept as requests a
process serves at once: a connection opened for one request and closed after it (the
overflow's fate) costs more than the query (PostgreSQL: the handshake and asyncpg's type
set-up; SQLite: a thread and the pragmas), and with 5 kept, 16 concurrent readers opened
~4 connections per 100 requests."""
POOL_TIMEOUT_SECONDS: Final = 3.0
"""How long a request waits for a pooled connection before giving up: a few seconds, so a
busy pool answers 503 at once rather than holding every caller for SQLAlchemy's 30 s."""
PING_AFTER_IDLE_SECONDS: Final = 2.0
"""A pooled PostgreSQL connection idle longer than this is pinged before it is handed out
(and replaced if the server dropped it); one returned more recently is used as it is. A
ping is three round trips (``BEGIN``, ``;``, ``ROLLBACK``): pinging on every checkout
doubled a one-query read's round trips."""


def create_engine(
    database_url: str,
    *,
    pool_size: int = POOL_SIZE,
    pool_overflow: int = POOL_OVERFLOW,
    pool_timeout_seconds: float = POOL_TIMEOUT_SECONDS,
    ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS,
) -> AsyncEngine:
    """An engine for SQLite (embedded profile) or PostgreSQL through asyncpg.

    Connections are pooled: ``pool_size`` kept, ``pool_overflow`` more opened under load,
    and a request that finds none free within ``pool_timeout_seconds`` gets
    ``sqlalchemy.exc.TimeoutError``. A PostgreSQL connection idle for more than
    ``ping_after_idle_seconds`` is pinged before use, so one the server dropped (a restart,
    an idle timeout) is replaced instead of failing a request. SQLite gets WAL, foreign keys
    and a busy timeout, so concurrent requests wait for the write lock instead of failing
    with "database is locked", and one thread hop per statement (``sqlite_driver``).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_overflow,
            pool_timeout=pool_timeout_seconds,
        )
        _ping_after_idle(engine, ping_after_idle_seconds)
        return engine
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread: a reading block's SELECT runs on the event loop's thread (no hop)
    options: dict[str, Any] = {"connect_args": {"timeout": 30, "check_same_thread": False}}
    if url.get_driver_name() == "aiosqlite":
        options["module"] = ONE_HOP_AIOSQLITE
        if url.database and url.database != ":memory:":
            options.update(pool_size=pool_size, max_overflow=pool_overflow)
    engine = create_async_engine(url, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


_RETURNED_AT = "strangler_returned_at"


def _ping_after_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a connection on checkout only when it has been idle longer than ``idle_seconds``."""
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned <= idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: the pool replaces it (and connects anew)
            raise DisconnectionError("the pooled connection did not answer a ping") from error


class _Transaction(AsyncSessionTransaction):
    """``AsyncSession.begin()``'s transaction, begun without a switch into SQLAlchemy's
    greenlet: beginning an ORM transaction does no IO (the connection and its ``BEGIN``
    wait for the first statement), and nothing here listens to ``after_transaction_create``
    (a listener that did IO there would raise ``MissingGreenlet``)."""

    __slots__ = ()

    async def start(self, is_ctxmanager: bool = False) -> AsyncSessionTransaction:
        self.sync_transaction = self._assign_proxied(self.session.sync_session.begin())
        if is_ctxmanager:
            self.sync_transaction.__enter__()
        return self


class _Session(AsyncSession):
    """An ``AsyncSession`` whose steps that do no IO are done at once.

    A unit of work (``async with sessions() as session, session.begin():``) switched into
    SQLAlchemy's greenlet four times and ran a task of its own: to begin, for each
    statement, to commit, and to close the session in a task shielded from cancellation.
    Beginning does no IO (``_Transaction``), nor does closing a session that holds no
    transaction (its ``session.begin()`` block committed or rolled back, or it never
    began one): nothing to release, so nothing a cancellation could leave half done. Its
    statements and commit still switch, and a session closed while it holds a
    transaction still closes as SQLAlchemy does."""

    def begin(self) -> AsyncSessionTransaction:
        return _Transaction(self)

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if self.sync_session.in_transaction():
            await super().__aexit__(type_, value, traceback)
        else:
            self.sync_session.close()


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions on ``engine`` (``_Session``), whose objects stay loaded after a commit."""
    return async_sessionmaker(engine, class_=_Session, expire_on_commit=False)


_COUNTED: weakref.WeakKeyDictionary[Select[Any], Select[Any]] = weakref.WeakKeyDictionary()
_LIMIT = bindparam("page_limit", type_=Integer())
_OFFSET = bindparam("page_offset", type_=Integer())


def _counted(statement: Select[Any]) -> Select[Any]:
    """``statement`` with the total as ``page_total`` (``count(*) OVER ()``) and the page's
    bounds as parameters, built once per statement: a statement kept at module level is then
    neither rebuilt nor re-keyed for SQLAlchemy's compiled cache on every request."""
    counted = _COUNTED.get(statement)
    if counted is None:
        counted = (
            statement.add_columns(func.count().over().label("page_total"))
            .limit(_LIMIT)
            .offset(_OFFSET)
        )
        _COUNTED[statement] = counted
    return counted


@contextlib.asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads, each statement on its own: on PostgreSQL in autocommit, so a
    read is one round trip, not three (``BEGIN``, the statement, ``ROLLBACK``: the two around
    it measured ~25 % of a one-query read's CPU). One statement sees one snapshot, so a page
    and its ``count(*) OVER ()`` agree. SQLite opens no transaction for a read anyway, and
    runs the block's ``SELECT`` statements on the event loop's thread (``sqlite_driver``):
    for short reads, as a request's are. ``read_page`` is the same read of a page in one go."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection
            return
        with _selects_here(connection.sync_connection):
            yield connection


@contextlib.contextmanager
def _selects_here(connection: Connection | None) -> Iterator[None]:
    """SQLite's ``SELECT`` statements on ``connection`` run on the caller's thread meanwhile."""
    with _driver_reads_here(connection.connection.dbapi_connection if connection else None):
        yield


@contextlib.contextmanager
def _driver_reads_here(driver: Any) -> Iterator[None]:
    if not isinstance(driver, OneHopConnection):
        yield
        return
    driver.reads_here = True
    try:
        yield
    finally:
        driver.reads_here = False


@contextlib.contextmanager
def _on_its_own(driver: Any, dialect: Dialect) -> Iterator[None]:
    """The driver's statements meanwhile each on their own: on PostgreSQL in autocommit (no
    ``BEGIN``), on SQLite a ``SELECT`` on the caller's thread; the driver as it was after."""
    if dialect.name != "postgresql":
        with _driver_reads_here(driver):
            yield
        return
    driver.autocommit = True
    try:
        yield
    finally:
        driver.autocommit = False


PageRows = Sequence[Any]
"""A page's rows, each with its columns as attributes and by position (``page_total`` last)."""


async def read_page(
    engine: AsyncEngine, statement: Select[Any], limit: int, offset: int
) -> tuple[PageRows, int]:
    """``paginate_rows`` on a ``reading`` connection, the whole read in one go: one switch
    into SQLAlchemy's synchronous core for the checkout, the statement and the return, where
    ``reading`` makes one for each (and a task to return the connection).

    The statement's paged form is compiled once per dialect and run on the pooled
    connection's driver cursor (``_PageRead``), not through SQLAlchemy's execution (its
    ``Connection``, execution context, result and rows: ~40 % of a three-row page's CPU on
    a request). The pool is the same (its size, timeout, ping after idle and reset on
    return); a driver error is raised as SQLAlchemy's, and a lost connection is replaced
    as SQLAlchemy would. Each row is a named tuple of the statement's columns (the total
    as ``page_total``), its values converted by the columns' types."""
    return await greenlet_spawn(_read_page, engine.sync_engine, statement, limit, offset)


def _read_page(
    engine: Engine, statement: Select[Any], limit: int, offset: int
) -> tuple[PageRows, int]:
    read = _PageRead.of(statement, engine.dialect)
    page = read.run(engine, limit, offset) if read is not None else None
    if page:
        return page, int(page[0][-1])
    if page is not None and offset == 0:
        return [], 0
    # Past the end (the count on its own), or a statement only SQLAlchemy's execution runs.
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
            return _page_of(connection, statement, limit, offset)
        with _selects_here(connection):
            return _page_of(connection, statement, limit, offset)


_PAGE_READS: weakref.WeakKeyDictionary[Select[Any], dict[Dialect, _PageRead | None]] = (
    weakref.WeakKeyDictionary()
)


class _PageRead:
    """A statement's paged form compiled for one dialect, run on a driver cursor.

    Compiled once: the SQL and its parameters' order and conversions. On the first rows:
    the rows' type (a named tuple of the cursor's column names) and the columns' result
    conversions (some depend on the type the driver reports)."""

    def __init__(self, compiled: SQLCompiler, dialect: Dialect) -> None:
        self._dialect = dialect
        self._sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        bounds = {"page_limit": 0, "page_offset": 0}
        self._defaults = dict(compiled.construct_params(bounds) or {})
        self._binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        # SQLAlchemy's own record of the columns, position by position as the cursor has them
        self._types = [column.type for column in compiled._result_columns or ()]
        self._row: Callable[..., Any] | None = None
        self._processors: list[Callable[[Any], Any] | None] = []

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect) -> _PageRead | None:
        """The statement's page read for ``dialect``; None for one whose SQL changes with its
        parameters' values (an expanding ``IN``): SQLAlchemy's execution renders those."""
        reads = _PAGE_READS.get(statement)
        if reads is None:
            reads = _PAGE_READS[statement] = {}
        if dialect not in reads:
            compiled = _counted(statement).compile(dialect=dialect)
            plain = compiled.positional and not (
                compiled.post_compile_params or compiled.literal_execute_params
            )
            reads[dialect] = cls(compiled, dialect) if plain else None
        return reads[dialect]

    def parameters(self, limit: int, offset: int) -> tuple[Any, ...]:
        values = {**self._defaults, "page_limit": limit, "page_offset": offset}
        converted = []
        for name in self._names:
            convert = self._binds.get(name)
            converted.append(values[name] if convert is None else convert(values[name]))
        return tuple(converted)

    def run(self, engine: Engine, limit: int, offset: int) -> list[Any]:
        """The page's rows, read on a pooled connection (returned to the pool after)."""
        parameters = self.parameters(limit, offset)
        pooled = engine.raw_connection()
        cursor = None
        try:
            with _on_its_own(pooled.dbapi_connection, self._dialect):
                cursor = pooled.cursor()
                cursor.execute(self._sql, parameters)
                description = cursor.description
                rows = cursor.fetchall()
                cursor.close()
        except self._dialect.loaded_dbapi.Error as error:
            raise self._translated(error, pooled, cursor, parameters) from error
        finally:
            pooled.close()
        return self._rows(description, rows) if rows else []

    def _rows(self, description: Any, rows: Sequence[Any]) -> list[Any]:
        if self._row is None:
            names = [column[0] for column in description]
            self._processors = self._result_processors(description)
            row = collections.namedtuple("PageRow", names, rename=True)  # type: ignore[misc]
            self._row = row._make
        make = self._row
        processors = self._processors
        if not any(processors):
            return [make(row) for row in rows]
        return [
            make(
                value if convert is None else convert(value)
                for convert, value in zip(processors, row, strict=True)
            )
            for row in rows
        ]

    def _result_processors(self, description: Any) -> list[Callable[[Any], Any] | None]:
        dialect = self._dialect
        return [
            type_.dialect_impl(dialect).result_processor(dialect, entry[1])
            for type_, entry in zip(self._types, description, strict=True)
        ]

    def _translated(
        self, error: Any, pooled: Any, cursor: Any, parameters: tuple[Any, ...]
    ) -> DBAPIError:
        """A driver error as SQLAlchemy raises it; the connection replaced if it is lost."""
        dialect = self._dialect
        lost = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
        if lost:
            pooled.invalidate(error)
        translated: DBAPIError = DBAPIError.instance(
            self._sql,
            parameters,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        )
        return translated


def _page_of(
    session: Session | Connection, statement: Select[Any], limit: int, offset: int
) -> tuple[Sequence[Row[Any]], int]:
    page = session.execute(_counted(statement), {"page_limit": limit, "page_offset": offset}).all()
    if page:
        return page, int(page[0][-1])
    if offset == 0:
        return [], 0
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return [], total or 0


async def _page(
    session: AsyncSession | AsyncConnection, statement: Select[Any], limit: int, offset: int
) -> tuple[Sequence[Row[Any]], int]:
    return await session.run_sync(_page_of, statement, limit, offset)


async def paginate(
    session: AsyncSession, statement: Select[Entity], limit: int, offset: int
) -> tuple[list[Entity], int]:
    """One page of ``statement``'s rows (one entity each) and the total row count.

    One query when the page has rows: the total rides on each row as ``count(*) OVER ()``.
    Only a page past the end (no row to carry it) asks for the count on its own.
    """
    page, total = await _page(session, statement, limit, offset)
    return [row[0] for row in page], total


async def paginate_rows(
    session: AsyncSession | AsyncConnection, statement: Select[Any], limit: int, offset: int
) -> tuple[Sequence[Row[Any]], int]:
    """``paginate`` for a Core statement (table columns, no ORM entity), on a session or a
    connection (``reading``): the page's rows as they come, each with its columns as
    attributes (and ``page_total``), none turned into an object. For a hot read: a
    three-row page costs ~half the CPU of loading entities."""
    return await _page(session, statement, limit, offset)
