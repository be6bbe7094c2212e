"""A saga's persisted state, the history of its attempts, and the read models built from them.

::

    running ──every action succeeded──▶ completed
       │
       │ an action failed for good (BusinessFailure), or ran out of retries
       ▼
    compensating ──every compensation succeeded──▶ compensated
       │
       └──a compensation failed for good, or ran out of retries──▶ compensation_failed

``running`` and ``compensating`` are in flight: some worker drives them, or will once their
lease expires. The three others are final; ``compensation_failed`` needs an operator, and its
history says which compensation failed and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

__all__ = [
    "IN_FLIGHT",
    "HistoryEntry",
    "Outcome",
    "Phase",
    "SagaState",
    "SagaStatus",
    "SagaSummary",
    "SagaView",
    "StepView",
]


class SagaStatus(StrEnum):
    RUNNING = "running"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    COMPENSATED = "compensated"
    COMPENSATION_FAILED = "compensation_failed"


IN_FLIGHT: Final = frozenset({SagaStatus.RUNNING, SagaStatus.COMPENSATING})


class Phase(StrEnum):
    ACTION = "action"
    COMPENSATION = "compensation"


class Outcome(StrEnum):
    """How one attempt ended. Only ``succeeded`` and ``failed`` are final for the step."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    ERRORED = "errored"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class HistoryEntry:
    """One attempt of one step's action or compensation, and how it ended."""

    step: str
    phase: Phase
    outcome: Outcome
    attempt: int
    at: datetime
    error: str | None = None


@dataclass
class SagaState:
    """One saga as stored. Changed only by the orchestrator that holds its lease.

    ``step_index`` is the step being run (``running``) or compensated (``compensating``).
    ``attempts`` counts the attempts at that step in the current phase; ``attempt_started_at``
    is set while one runs, so an attempt cut short by a crash is found and recorded as
    ``interrupted`` by whoever resumes the saga. ``owner`` holds the lease until
    ``lease_expires_at``; nobody else touches the saga before then.
    """

    id: str
    saga_type: str
    status: SagaStatus
    step_index: int
    step_name: str | None
    data: dict[str, Any]
    failure: str | None
    attempts: int
    next_attempt_at: datetime
    attempt_started_at: datetime | None
    owner: str | None
    lease_expires_at: datetime | None
    idempotency_key: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT


@dataclass(frozen=True)
class SagaSummary:
    """One line of a saga list."""

    id: str
    saga_type: str
    status: SagaStatus
    step: str | None
    attempts: int
    failure: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StepView:
    """Where one step stands.

    ``state`` is one of: ``pending`` (not run yet), ``running`` (being attempted or due),
    ``retrying`` (failed transiently, will be tried again), ``succeeded``, ``failed`` (a
    business failure), ``gave_up`` (retries used up), ``not_run`` (the saga ended before
    it), ``compensating``, ``compensated``, ``compensation_failed``.
    """

    name: str
    state: str
    attempts: int
    compensation_attempts: int
    has_compensation: bool


@dataclass(frozen=True)
class SagaView:
    """A saga with its data (sensitive keys redacted), its steps and its whole history."""

    summary: SagaSummary
    data: dict[str, Any]
    next_attempt_at: datetime | None
    owner: str | None
    lease_expires_at: datetime | None
    steps: tuple[StepView, ...]
    history: tuple[HistoryEntry, ...]
