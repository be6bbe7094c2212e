"""The orchestrator: drives each saga step by step, and keeps every step's outcome.

For one saga, one worker at a time (the one holding its lease):

1. the attempt is recorded as started (``attempts`` + 1, ``attempt_started_at``);
2. the action — or, while compensating, the compensation — runs under ``timeout_seconds``,
   while a heartbeat renews the worker's lease every third of ``lease_seconds``;
3. its outcome is saved with a history entry, in one transaction, before anything else runs;
   when the next attempt is due at once (the next step, or the first compensation), its start
   is recorded in that same transaction: one write per step, not two. A step that wrote its
   changes in the transaction the store lends it (``StepContext.transaction``) has its
   success saved in that transaction: the step's changes and its outcome, one commit.

A worker that dies stops renewing: its sagas are free again ``lease_seconds`` later. One
that finds its lease taken (it stalled past the expiry) cancels the attempt and lets go;
every write is fenced by the lease, so it cannot overwrite the new holder's progress.

So a crash loses at most the attempt in progress: whoever resumes the saga finds
``attempt_started_at`` set, records that attempt as ``interrupted``, and tries the step
again (actions and compensations are idempotent), never a step already recorded as done.

Outcomes: success moves on (the next step, or the previous compensation); a
``BusinessFailure`` compensates the steps before the failed one at once; any other error or
a timeout is retried with exponential backoff, and once the retries are used up the step's
outcome is unknown, so its own compensation runs before those of the steps before it.
Compensations run in reverse order and are retried the same way; one that fails for good
stops the saga in ``compensation_failed`` with the reason in its history — nothing is dropped.

``run(stop)`` is the background loop of a service: it polls for due sagas nobody holds (new
ones, retries whose backoff is over, and sagas of a worker that died once its lease expired),
claiming as many as it has room for in the same statement (``claim_due``), and drives up to
``max_concurrent`` at once. A saga started while this process's
loop runs and has room is stored already held by it, its first attempt recorded as started,
and driven at once: no poll, no claim, no write before its first step runs (a crash right
after the insert leaves it to whoever finds its lease expired, like any other). Without room
it is stored free, for the first worker that polls — this one once a drive ends, or another
process.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from strangler_persistence import utcnow

from strangler_sagas.definition import BusinessFailure, SagaDefinition, Step, StepCall, StepContext
from strangler_sagas.state import (
    HistoryEntry,
    Outcome,
    Phase,
    SagaState,
    SagaStatus,
    SagaSummary,
    SagaView,
    StepView,
)
from strangler_sagas.store import SagaStore

__all__ = [
    "REDACTED",
    "Clock",
    "OrchestratorSettings",
    "SagaOrchestrator",
    "Sleep",
    "Started",
    "UnknownSagaType",
]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

REDACTED = "[redacted]"
INTERRUPTED_BY_STOP = "the worker stopped during this attempt"


@dataclass(frozen=True)
class OrchestratorSettings:
    """How the background loop polls, how long a lease lasts unless renewed (a dead worker's
    sagas wait that long), how many sagas it drives at once, and how long a stopping worker
    lets attempts in progress finish."""

    poll_seconds: float = 1.0
    lease_seconds: float = 15.0
    max_concurrent: int = 16
    shutdown_grace_seconds: float = 5.0
    max_poll_backoff_seconds: float = 10.0


@dataclass(frozen=True)
class Started:
    """The saga ``start`` stored, or the one that already held the idempotency key."""

    saga: SagaState
    created: bool


class UnknownSagaType(LookupError):
    def __init__(self, saga_type: str) -> None:
        super().__init__(f"no saga definition of type {saga_type!r}")
        self.saga_type = saga_type


class SagaOrchestrator:
    """Starts, drives, resumes and describes the sagas of one service.

    ``clock`` and ``sleep`` are seams for tests: backoff waits go through ``sleep``, and every
    timestamp, lease and due time comes from ``clock``.
    """

    def __init__(
        self,
        store: SagaStore,
        definitions: Iterable[SagaDefinition],
        *,
        settings: OrchestratorSettings | None = None,
        clock: Clock = utcnow,
        sleep: Sleep = asyncio.sleep,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.definitions = {definition.saga_type: definition for definition in definitions}
        self.settings = settings or OrchestratorSettings()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._clock = clock
        self._sleep = sleep
        self._lease = timedelta(seconds=self.settings.lease_seconds)
        self._wake = asyncio.Event()
        self._loop_context = contextvars.Context()
        self._drives: dict[str, asyncio.Task[None]] | None = None
        """The sagas ``run`` drives now; None while it does not run."""
        self._reserved = 0
        """Room taken by starts between their check and their insert."""
        self._behind = False
        """Due sagas were left for want of room: a drive that ends polls again at once."""

    # starting and reading

    async def start(
        self,
        saga_type: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        saga_id: str | None = None,
    ) -> Started:
        """Store a new saga at its first step, due now; ``run`` picks it up at once.

        With ``idempotency_key``, a saga of this type already holding the key is answered
        instead (``created`` False), whatever ``data`` says: the caller compares. The store's
        unique key finds it (a repeated request costs a refused insert and a read; a new one,
        the usual case, no read first); a caller that looks first with ``find`` answers a
        repeat without either.
        """
        definition = self._definition(saga_type)
        now = self._clock()
        held = self._has_room()
        saga = SagaState(
            id=saga_id or str(uuid.uuid4()),
            saga_type=saga_type,
            status=SagaStatus.RUNNING,
            step_index=0,
            step_name=definition.step_name(0),
            data=json.loads(json.dumps(dict(data))),
            failure=None,
            attempts=0,
            next_attempt_at=now,
            attempt_started_at=None,
            owner=None,
            lease_expires_at=None,
            idempotency_key=idempotency_key,
            created_at=now,
            updated_at=now,
        )
        if not held:
            self._behind = True
            stored, created = await self.store.create(saga)
            if created:
                self._wake.set()
            return Started(stored, created)
        saga.owner = self.owner
        _start_attempt(saga, now, self._lease)
        self._reserved += 1
        try:
            stored, created = await self.store.create(saga)
        finally:
            self._reserved -= 1
        if created:
            self._launch(stored, definition)
        return Started(stored, created)

    def _has_room(self) -> bool:
        drives = self._drives
        return drives is not None and len(drives) + self._reserved < self.settings.max_concurrent

    def _launch(self, saga: SagaState, definition: SagaDefinition) -> None:
        """Drive a saga this worker stored as held by it, in the background."""
        drives = self._drives
        if drives is None:  # the loop stopped meanwhile: the lease runs out, another resumes
            return
        task = asyncio.create_task(
            self._drive_logged(saga.id, copy.deepcopy(saga), definition),
            name=f"saga-{saga.id}",
            context=self._loop_context.copy(),  # the loop's, as if it had found the saga
        )
        drives[saga.id] = task
        task.add_done_callback(functools.partial(self._done, drives, saga.id))

    async def find(self, saga_type: str, idempotency_key: str) -> SagaState | None:
        return await self.store.find(saga_type, idempotency_key)

    async def view(self, saga_id: str) -> SagaView | None:
        """The saga with its steps and whole history, sensitive data redacted."""
        found = await self.store.get_with_history(saga_id)
        if found is None:
            return None
        return self.view_of(*found)

    def view_of(self, saga: SagaState, history: Iterable[HistoryEntry] = ()) -> SagaView:
        """The view of a saga at hand (one ``start`` answered: no history yet), unread."""
        history = list(history)
        definition = self.definitions.get(saga.saga_type)
        sensitive = definition.sensitive if definition is not None else frozenset()
        return SagaView(
            summary=_summary(saga),
            data={k: REDACTED if k in sensitive else v for k, v in saga.data.items()},
            next_attempt_at=saga.next_attempt_at if saga.in_flight else None,
            owner=saga.owner,
            lease_expires_at=saga.lease_expires_at,
            steps=_step_views(saga, definition, history) if definition is not None else (),
            history=tuple(history),
        )

    async def recent(
        self,
        *,
        status: SagaStatus | None = None,
        saga_type: str | None = None,
        limit: int = 50,
    ) -> list[SagaSummary]:
        """The most recently updated sagas first."""
        sagas = await self.store.recent(status=status, saga_type=saga_type, limit=limit)
        return [_summary(saga) for saga in sagas]

    # driving

    async def drive(self, saga_id: str) -> SagaState | None:
        """Claim the saga and run it until it ends, as it stands in the store.

        Answers the final state; ``None`` when someone else holds the saga, it is already
        final, or this worker lost its lease on the way. Cancelled (the service stops), it
        gives the lease up so that the next worker resumes the saga without waiting.
        """
        now = self._clock()
        saga = await self.store.claim(saga_id, self.owner, now, now + self._lease)
        if saga is None:
            return None
        return await self._drive_claimed(saga)

    async def _drive_claimed(self, saga: SagaState) -> SagaState | None:
        """Run a saga this worker has just claimed (see ``drive``)."""
        definition = self.definitions.get(saga.saga_type)
        if definition is None:
            logger.error("saga %s: %s; left as it is", saga.id, UnknownSagaType(saga.saga_type))
            await self.store.release(saga.id, self.owner)
            return None
        try:
            if saga.attempt_started_at is not None and not await self._interrupted(
                saga, definition
            ):
                return None
        except asyncio.CancelledError:
            await asyncio.shield(self.store.release(saga.id, self.owner))
            raise
        return await self._drive_held(saga, definition)

    async def _drive_held(self, saga: SagaState, definition: SagaDefinition) -> SagaState | None:
        """Run a saga this worker holds until it ends (see ``drive``)."""
        try:
            while saga.in_flight:
                if not await self._advance(saga, definition):
                    logger.warning("saga %s: lost its lease; another worker has it", saga.id)
                    return None
        except asyncio.CancelledError:
            await asyncio.shield(self.store.release(saga.id, self.owner))
            raise
        return saga

    async def run(self, stop: asyncio.Event) -> None:
        """Drive due sagas until ``stop`` is set; on the way out, attempts in progress get
        ``shutdown_grace_seconds`` to finish before they are cancelled."""
        drives: dict[str, asyncio.Task[None]] = {}
        self._loop_context = contextvars.copy_context()
        self._drives = drives
        failures = 0
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self._start_due(drives)
                    failures = 0
                except Exception as exc:  # the database is away: back off, keep going
                    failures += 1
                    delay = min(
                        self.settings.max_poll_backoff_seconds,
                        self.settings.poll_seconds * 2**failures,
                    )
                    logger.warning("sagas: polling failed (%s); retrying in %.1fs", exc, delay)
                    await _first_of(stop, None, delay)
                    continue
                await _first_of(stop, self._wake, self.settings.poll_seconds)
        finally:
            self._drives = None
            await self._stop(drives)

    async def _start_due(self, drives: dict[str, asyncio.Task[None]]) -> None:
        room = self.settings.max_concurrent - len(drives) - self._reserved
        if room <= 0:
            self._behind = True
            return
        now = self._clock()
        claimed = await self.store.claim_due(self.owner, now, now + self._lease, room)
        self._behind = len(claimed) >= room
        for saga in claimed:
            if saga.id in drives:  # its lease ran out while driven here: claimed again
                continue
            task = asyncio.create_task(
                self._drive_logged(saga.id, claimed=saga), name=f"saga-{saga.id}"
            )
            drives[saga.id] = task
            task.add_done_callback(functools.partial(self._done, drives, saga.id))

    def _done(
        self, drives: dict[str, asyncio.Task[None]], saga_id: str, _: asyncio.Task[None]
    ) -> None:
        drives.pop(saga_id, None)
        if self._behind:  # else nothing was left waiting: the next poll finds new work
            self._wake.set()

    async def _drive_logged(
        self,
        saga_id: str,
        held: SagaState | None = None,
        definition: SagaDefinition | None = None,
        *,
        claimed: SagaState | None = None,
    ) -> None:
        try:
            if held is not None and definition is not None:
                await self._drive_held(held, definition)
            elif claimed is not None:
                await self._drive_claimed(claimed)
            else:
                await self.drive(saga_id)
        except Exception:
            logger.exception("saga %s: driving it failed; resumed once its lease expires", saga_id)

    async def _stop(self, drives: dict[str, asyncio.Task[None]]) -> None:
        if not drives:
            return
        _, pending = await asyncio.wait(
            list(drives.values()), timeout=self.settings.shutdown_grace_seconds
        )
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    # one attempt

    async def _advance(self, saga: SagaState, definition: SagaDefinition) -> bool:
        phase = _phase(saga)
        step = definition.steps[saga.step_index]
        call = step.action if phase is Phase.ACTION else step.compensation
        assert call is not None, "the compensation cursor skips steps without one"

        if saga.attempt_started_at is None:  # else: recorded with the previous outcome
            now = self._clock()
            wait = (saga.next_attempt_at - now).total_seconds()
            if wait > 0:
                saga.lease_expires_at = saga.next_attempt_at + self._lease
                if not await self._save(saga):
                    return False
                await self._sleep(wait)
                now = self._clock()
            _start_attempt(saga, now, self._lease)
            if not await self._save(saga):
                return False

        async with self.store.transaction() as transaction:
            context = StepContext(
                saga_id=saga.id,
                saga_type=saga.saga_type,
                step=step.name,
                attempt=saga.attempts,
                data=MappingProxyType(copy.deepcopy(saga.data)),
                failure=saga.failure,
                transaction=transaction,
            )
            attempted = await self._attempt_holding_lease(
                saga.id, call, context, step.timeout_seconds
            )
            if attempted is None:
                return False
            outcome, error, updates = attempted

            now = self._clock()
            saga.attempt_started_at = None
            saga.updated_at = now
            entry = HistoryEntry(step.name, phase, outcome, saga.attempts, now, error)
            if outcome is Outcome.SUCCEEDED:
                self._succeeded(saga, definition, phase, updates, now)
            elif outcome is Outcome.FAILED:
                self._failed(saga, definition, step, phase, error, now)
            else:
                self._transient(saga, definition, step, phase, error, now)
            if saga.in_flight and saga.next_attempt_at <= now:
                _start_attempt(saga, now, self._lease)  # the next one, recorded with this outcome
            self._log(saga, entry)
            if outcome is Outcome.SUCCEEDED:  # with what the step wrote in the transaction
                return await self._save(saga, entry, within=transaction)
        # Failed, or no outcome: what the step wrote in the transaction is rolled back.
        return await self._save(saga, entry)

    async def _attempt_holding_lease(
        self, saga_id: str, call: StepCall, context: StepContext, timeout_seconds: float
    ) -> _Attempted | None:
        """The attempt's outcome, or None if the lease was lost meanwhile (it was cancelled)."""
        lost = asyncio.Event()
        attempt = asyncio.ensure_future(_attempt(call, context, timeout_seconds))
        heartbeat = asyncio.ensure_future(self._keep_lease(saga_id, attempt, lost))
        try:
            return await attempt
        except asyncio.CancelledError:
            if lost.is_set():
                return None
            raise
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    async def _keep_lease(
        self, saga_id: str, attempt: asyncio.Future[_Attempted], lost: asyncio.Event
    ) -> None:
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            try:
                held = await self.store.renew(saga_id, self.owner, self._clock() + self._lease)
            except Exception as exc:  # the database is away: try again, the lease may hold
                logger.warning("saga %s: renewing its lease failed (%s)", saga_id, exc)
                continue
            if not held:
                lost.set()
                attempt.cancel()
                return

    async def _interrupted(self, saga: SagaState, definition: SagaDefinition) -> bool:
        """The attempt a dead (or stopped) worker left unfinished: record it, then retry."""
        phase = _phase(saga)
        step = definition.steps[saga.step_index]
        now = self._clock()
        saga.attempt_started_at = None
        saga.updated_at = now
        entry = HistoryEntry(
            step.name, phase, Outcome.INTERRUPTED, saga.attempts, now, INTERRUPTED_BY_STOP
        )
        self._transient(saga, definition, step, phase, INTERRUPTED_BY_STOP, now)
        self._log(saga, entry)
        return await self._save(saga, entry)

    # transitions

    def _succeeded(
        self,
        saga: SagaState,
        definition: SagaDefinition,
        phase: Phase,
        updates: Mapping[str, Any] | None,
        now: datetime,
    ) -> None:
        if updates:
            saga.data.update(json.loads(json.dumps(dict(updates))))
        saga.attempts = 0
        saga.next_attempt_at = now
        if phase is Phase.COMPENSATION:
            self._compensate_from(saga, definition, saga.step_index - 1, now)
            return
        saga.step_index += 1
        saga.step_name = definition.step_name(saga.step_index)
        if saga.step_index >= len(definition.steps):
            _finish(saga, SagaStatus.COMPLETED, definition)

    def _failed(
        self,
        saga: SagaState,
        definition: SagaDefinition,
        step: Step,
        phase: Phase,
        error: str | None,
        now: datetime,
    ) -> None:
        if phase is Phase.COMPENSATION:
            _finish(saga, SagaStatus.COMPENSATION_FAILED, definition)
            return
        saga.failure = f"{step.name}: {error}"
        self._compensate_from(saga, definition, saga.step_index - 1, now)

    def _transient(
        self,
        saga: SagaState,
        definition: SagaDefinition,
        step: Step,
        phase: Phase,
        error: str | None,
        now: datetime,
    ) -> None:
        policy = step.retry if phase is Phase.ACTION else step.compensation_policy
        if saga.attempts < policy.max_attempts:
            saga.next_attempt_at = now + timedelta(seconds=policy.delay_after(saga.attempts))
            return
        if phase is Phase.COMPENSATION:
            _finish(saga, SagaStatus.COMPENSATION_FAILED, definition)
            return
        saga.failure = f"{step.name}: gave up after {saga.attempts} attempts: {error}"
        self._compensate_from(saga, definition, saga.step_index, now)

    def _compensate_from(
        self, saga: SagaState, definition: SagaDefinition, index: int, now: datetime
    ) -> None:
        while index >= 0 and definition.steps[index].compensation is None:
            index -= 1
        saga.status = SagaStatus.COMPENSATING
        saga.step_index = index
        saga.step_name = definition.step_name(index)
        saga.attempts = 0
        saga.next_attempt_at = now
        if index < 0:
            _finish(saga, SagaStatus.COMPENSATED, definition)

    async def _save(
        self, saga: SagaState, entry: HistoryEntry | None = None, *, within: Any = None
    ) -> bool:
        return await self.store.save(saga, self.owner, entry, within=within)

    def _definition(self, saga_type: str) -> SagaDefinition:
        try:
            return self.definitions[saga_type]
        except KeyError:
            raise UnknownSagaType(saga_type) from None

    @staticmethod
    def _log(saga: SagaState, entry: HistoryEntry) -> None:
        if entry.outcome is Outcome.SUCCEEDED:
            logger.info("saga %s: %s %s succeeded", saga.id, entry.step, entry.phase)
        else:
            logger.warning(
                "saga %s: %s %s attempt %d %s: %s; saga is %s",
                saga.id,
                entry.step,
                entry.phase,
                entry.attempt,
                entry.outcome,
                entry.error,
                saga.status,
            )


def _start_attempt(saga: SagaState, now: datetime, lease: timedelta) -> None:
    """An attempt of the current step begins: recorded before it runs, so that whoever
    resumes the saga after a crash knows it was cut short."""
    saga.attempts += 1
    saga.attempt_started_at = now
    saga.lease_expires_at = now + lease
    saga.updated_at = now


def _phase(saga: SagaState) -> Phase:
    return Phase.COMPENSATION if saga.status is SagaStatus.COMPENSATING else Phase.ACTION


def _finish(saga: SagaState, status: SagaStatus, definition: SagaDefinition) -> None:
    """The saga is over: nobody holds it, and once nothing is left to do its sensitive data
    is erased (a saga whose compensation failed keeps it for whoever finishes the job)."""
    saga.status = status
    saga.owner = None
    saga.lease_expires_at = None
    if status is not SagaStatus.COMPENSATION_FAILED:
        for key in definition.sensitive:
            saga.data.pop(key, None)


_Attempted = tuple[Outcome, str | None, Mapping[str, Any] | None]


async def _attempt(call: StepCall, context: StepContext, timeout_seconds: float) -> _Attempted:
    try:
        async with asyncio.timeout(timeout_seconds):  # in this task: no task of its own
            updates = await call(context)
    except BusinessFailure as failure:
        return Outcome.FAILED, _describe(failure), None
    except TimeoutError:
        return Outcome.TIMED_OUT, f"no outcome within {timeout_seconds:g} s", None
    except Exception as error:
        return Outcome.ERRORED, _describe(error), None
    try:
        json.dumps(dict(updates or {}))
    except (TypeError, ValueError) as error:
        return Outcome.ERRORED, f"the step answered data that is not JSON: {error}", None
    return Outcome.SUCCEEDED, None, updates


def _describe(error: BaseException) -> str:
    text = str(error)
    if isinstance(error, BusinessFailure):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def _first_of(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    """Wait up to ``seconds``, less if ``stop`` or ``wake`` is set meanwhile."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _summary(saga: SagaState) -> SagaSummary:
    return SagaSummary(
        id=saga.id,
        saga_type=saga.saga_type,
        status=saga.status,
        step=saga.step_name,
        attempts=saga.attempts,
        failure=saga.failure,
        created_at=saga.created_at,
        updated_at=saga.updated_at,
    )


def _step_views(
    saga: SagaState, definition: SagaDefinition, history: list[HistoryEntry]
) -> tuple[StepView, ...]:
    views = []
    for index, step in enumerate(definition.steps):
        actions = [e for e in history if e.step == step.name and e.phase is Phase.ACTION]
        undone = [e for e in history if e.step == step.name and e.phase is Phase.COMPENSATION]
        views.append(
            StepView(
                name=step.name,
                state=_step_state(saga, index, actions, undone),
                attempts=len(actions),
                compensation_attempts=len(undone),
                has_compensation=step.compensation is not None,
            )
        )
    return tuple(views)


def _step_state(
    saga: SagaState, index: int, actions: list[HistoryEntry], undone: list[HistoryEntry]
) -> str:
    current = index == saga.step_index
    last_action = actions[-1].outcome if actions else None
    if undone and undone[-1].outcome is Outcome.SUCCEEDED:
        return "compensated"
    if current and saga.status is SagaStatus.COMPENSATION_FAILED:
        return "compensation_failed"
    if current and saga.status is SagaStatus.COMPENSATING:
        return "compensating"
    if last_action is Outcome.SUCCEEDED:
        return "succeeded"
    if last_action is Outcome.FAILED:
        return "failed"
    if last_action is not None:
        return "retrying" if current and saga.status is SagaStatus.RUNNING else "gave_up"
    if current and saga.status is SagaStatus.RUNNING:
        return "running"
    return "pending" if saga.status is SagaStatus.RUNNING else "not_run"
