"""How an outbox relay hears that an event was committed, instead of asking every few ms.

The writer's side (``announce_commit``, called by ``Outbox.record``) says it twice, both
only once the transaction has committed (the session's ``after_commit`` hook; nothing on
rollback):

- in this process, the outbox's ``doorbell`` rings: on SQLite (no NOTIFY) the writer and its
  relay share a process, as every deployable here runs its relay in-process;
- on PostgreSQL, a ``pg_notify`` on the outbox's channel reaches the relays of every other
  process (the one holding the relay's lock may be another instance). It is sent after the
  commit, by one task per outbox and process, one at a time: a burst of commits costs one
  notification. It is not sent at all while a relay of this process leads that outbox (it
  held the relay's lock in its last batch, ``lead``): the doorbell wakes the one relay that
  publishes, and the others could not publish anyway. That saves the commit's share of a
  NOTIFY transaction (measured: over a third of the writers' round trips with 16 writers).
  Should that relay stop or lose the lock, another process's relay takes over and its
  fallback poll finds the events. Not inside the writer's transaction: measured with 16
  writers, a NOTIFY there halved the database's commit rate (PostgreSQL serialises the
  commits of notifying transactions, WAL flush included) and cost each transaction a round
  trip. A process that dies between its commit and the notification leaves the event to the
  relay's fallback poll.

The relay's side (``CommitSignal``) waits for the first of the doorbell, a notification on its
own asyncpg connection (dedicated: a pooled one would drop the LISTEN when returned), or a
timeout. The timeout is the fallback that keeps every guarantee without the signal: a writer
in another process on SQLite, a LISTEN connection that was lost (re-established after
``relisten_seconds``), a notification lost with it. Waking is only a hint: the relay reads
the outbox table either way, so a spurious wake costs one query and a lost one a poll interval.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from sqlalchemy import Engine, Table, func, select
from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

__all__ = [
    "CommitSignal",
    "Doorbell",
    "announce_commit",
    "channel_name",
    "doorbell",
    "lead",
    "notifications_requested",
]

logger = logging.getLogger(__name__)

_PENDING = "strangler_eventing.outboxes_written"


def channel_name(table: Table) -> str:
    """The NOTIFY channel of an outbox table (per database: channels are not server-wide)."""
    return f"strangler_outbox_{table.name}"[:63]


class Doorbell:
    """Wakes the waiters of one outbox in this process; thread-safe, loop-safe."""

    def __init__(self) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def ring(self) -> None:
        """Wake every waiter: one on the running loop at once, one on another loop through
        that loop's thread-safe queue. A commit rings on its writer's loop, which is its
        relay's (every deployable runs its relay in-process), so it is set at once: waking
        it through the queue cost each commit a write to the loop's self-pipe (a syscall)
        and the loop a read of it."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, waiter in list(self._waiters):
            if loop is running:
                waiter.set()
            elif loop.is_closed():
                self._waiters.discard((loop, waiter))
            else:
                loop.call_soon_threadsafe(waiter.set)

    def add(self, waiter: asyncio.Event) -> None:
        self._waiters.add((asyncio.get_running_loop(), waiter))

    def remove(self, waiter: asyncio.Event) -> None:
        self._waiters = {(loop, w) for loop, w in self._waiters if w is not waiter}


_DOORBELLS: weakref.WeakKeyDictionary[Table, Doorbell] = weakref.WeakKeyDictionary()


def doorbell(table: Table) -> Doorbell:
    """The doorbell of ``table``: the writer and the relay share the ``Table`` object."""
    bell = _DOORBELLS.get(table)
    if bell is None:
        bell = _DOORBELLS[table] = Doorbell()
    return bell


async def announce_commit(session: AsyncSession, table: Table) -> None:
    """Make the session's transaction, once committed, wake the relays of ``table``.

    Once per transaction and outbox, however many events it records. What to wake is kept
    in the session's ``info``; one listener for every session of the process (registered
    once, below) reads it after each commit: a listener added per session cost ~8 % of a
    writer's transaction (SQLAlchemy builds an event collection for the instance).
    """
    sync_session = session.sync_session
    pending: dict[Table, Engine] = sync_session.info.setdefault(_PENDING, {})
    if table in pending:
        return
    bind = sync_session.get_bind()
    pending[table] = bind if isinstance(bind, Engine) else bind.engine


_LEADERS: weakref.WeakKeyDictionary[Table, dict[str, int]] = weakref.WeakKeyDictionary()


_DATABASES: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _database(engine: Engine) -> str:
    """Which database ``engine`` reaches, rendered once per engine: every commit that
    recorded an event asks, and rendering its URL costs ~5 µs each time."""
    database = _DATABASES.get(engine)
    if database is None:
        database = _DATABASES[engine] = engine.url.render_as_string(hide_password=True)
    return database


def lead(table: Table, engine: Engine, leading: bool) -> None:
    """Say whether a relay of this process leads ``table`` on ``engine``'s database (it
    holds the relay's lock): while one does, commits here ring only the doorbell.

    Counted, so two relays of one outbox in a process each say so for themselves; a relay
    says ``False`` when it loses the lock and when it stops.
    """
    leaders = _LEADERS.setdefault(table, {})
    database = _database(engine)
    count = leaders.get(database, 0) + (1 if leading else -1)
    if count > 0:
        leaders[database] = count
    else:
        leaders.pop(database, None)


def _led_here(table: Table, engine: Engine) -> bool:
    leaders = _LEADERS.get(table)
    return bool(leaders) and _database(engine) in leaders  # type: ignore[operator]


def _written(session: Session) -> dict[Table, Engine] | None:
    """What ``session`` recorded since its last commit or rollback, forgotten as it is read;
    None for (nearly every) session that recorded nothing: its ``info`` is not even made."""
    info: dict[Any, Any] | None = session.__dict__.get("info")
    return info.pop(_PENDING, None) if info else None


@orm_event.listens_for(Session, "after_commit")
def _ring_written(session: Session) -> None:
    for table, engine in (_written(session) or {}).items():
        doorbell(table).ring()
        if engine.dialect.name == "postgresql" and not _led_here(table, engine):
            _notifier(table, engine).request()


@orm_event.listens_for(Session, "after_rollback")
def _forget_written(session: Session) -> None:
    _written(session)


class _Notifier:
    """NOTIFY on one outbox's channel for this process's commits: one at a time, the next
    covering every commit made while one was being sent."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self._engine = weakref.ref(engine)
        self._channel = channel
        self._due = False
        self._task: asyncio.Task[None] | None = None
        self.requested = 0

    def request(self) -> None:
        self.requested += 1
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a commit outside any event loop: the relay's poll finds it
            return
        self._due = True
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._send())

    async def _send(self) -> None:
        while self._due:
            self._due = False
            engine = self._engine()
            if engine is None:
                return
            try:
                async with AsyncEngine(engine).connect() as connection:
                    await connection.execute(select(func.pg_notify(self._channel, "")))
                    await connection.commit()
            except Exception as exc:
                logger.warning("outbox: NOTIFY %s failed (%s); relays poll", self._channel, exc)
                return


_NOTIFIERS: weakref.WeakKeyDictionary[Table, dict[int, _Notifier]] = weakref.WeakKeyDictionary()


def _notifier(table: Table, engine: Engine) -> _Notifier:
    per_engine = _NOTIFIERS.setdefault(table, {})
    notifier = per_engine.get(id(engine))
    if notifier is None or notifier._engine() is not engine:
        notifier = per_engine[id(engine)] = _Notifier(engine, channel_name(table))
    return notifier


def notifications_requested(table: Table, engine: AsyncEngine | Engine) -> int:
    """How many commits of this process to ``table`` through ``engine`` asked for a NOTIFY
    (one is sent for each burst of them)."""
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    return _notifier(table, sync_engine).requested


class CommitSignal:
    """What a relay waits on between batches: its outbox's doorbell and, on PostgreSQL, the
    notifications of its channel on a connection of its own."""

    def __init__(self, engine: AsyncEngine, table: Table, relisten_seconds: float = 5.0) -> None:
        self.engine = engine
        self.table = table
        self.relisten_seconds = relisten_seconds
        self._woken = asyncio.Event()
        self._connection: Any = None
        self._last_try = float("-inf")
        self._bell = doorbell(table)
        self.idle_waits = 0
        """How often the relay went idle, waiting for a commit: it had read everything."""

    @property
    def listening(self) -> bool:
        """Whether commits in other processes wake it too (a LISTEN is in place)."""
        return self._connection is not None and not self._connection.is_closed()

    async def start(self) -> None:
        self._bell.add(self._woken)
        await self._listen()

    def clear(self) -> None:
        """Forget what woke it so far: called before the relay reads the outbox."""
        self._woken.clear()

    async def wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Until a commit is announced, ``stop`` is set or ``seconds`` pass."""
        if not self.listening:
            await self._listen()
        if self._woken.is_set() or stop.is_set():
            return
        self.idle_waits += 1
        waiters = [asyncio.ensure_future(self._woken.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def close(self) -> None:
        self._bell.remove(self._woken)
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.remove_termination_listener(self._lost)
            try:
                await asyncio.wait_for(connection.close(), 2.0)
            except Exception:  # closing a broken connection: nothing left to release
                connection.terminate()

    async def _listen(self) -> None:
        """LISTEN on a dedicated asyncpg connection; on failure the relay polls, and it is
        tried again after ``relisten_seconds``."""
        if self.engine.dialect.name != "postgresql":
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_try < self.relisten_seconds:
            return
        self._last_try = loop.time()
        import asyncpg

        arguments = self.engine.url.translate_connect_args(username="user")
        try:
            connection = await asyncio.wait_for(asyncpg.connect(**arguments), 5.0)
            await connection.add_listener(channel_name(self.table), self._notified)
        except Exception as exc:
            logger.warning(
                "outbox %s: cannot LISTEN (%s); polling until it can", self.table.name, exc
            )
            return
        connection.add_termination_listener(self._lost)
        self._connection = connection
        self._woken.set()  # what was committed before the LISTEN is read now

    def _notified(self, *_: object) -> None:
        self._woken.set()

    def _lost(self, *_: object) -> None:
        logger.warning("outbox %s: the LISTEN connection is gone; polling", self.table.name)
        self._connection = None
        self._woken.set()
