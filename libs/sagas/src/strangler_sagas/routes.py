"""The operators' view of a service's sagas, outside ``/api`` (the gateway does not route it:
it is for operators and ``strangler sagas``, on the internal network).

``GET {prefix}?status=&type=&limit=``  the most recently updated sagas first
``GET {prefix}/{saga_id}``             one saga: its data (sensitive keys redacted), where
                                       each step stands, and every attempt in order

``choreographies_router`` serves the choreographies an observer reconstructs from events
(``strangler_sagas.choreography``) beside them, at ``/internal/choreographies``.

The answers are ``strangler_sagas.wire``'s models, which ``strangler sagas`` reads too. No
``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations at run
time, and ``Sagas`` is local to ``sagas_router``.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from http_platform import Problem
from http_platform.problem_catalogue import ProblemCatalogue

from strangler_sagas.choreography import ChoreographyView, ParticipantView, SeenEvent
from strangler_sagas.choreography_sql import ChoreographyViews
from strangler_sagas.orchestrator import SagaOrchestrator
from strangler_sagas.state import HistoryEntry, SagaStatus, SagaSummary, SagaView, StepView
from strangler_sagas.wire import (
    CHOREOGRAPHIES_PATH,
    SAGAS_PATH,
    ChoreographyDetail,
    ChoreographyEvent,
    ChoreographyList,
    ChoreographyParticipant,
    ChoreographyRow,
    SagaAttempt,
    SagaDetail,
    SagaList,
    SagaRow,
    SagaStep,
)

__all__ = [
    "CHOREOGRAPHY_NOT_FOUND",
    "MAX_LIST_LIMIT",
    "SAGA_NOT_FOUND",
    "SAGA_PROBLEMS",
    "choreographies_router",
    "sagas_router",
]

MAX_LIST_LIMIT = 500

SAGA_PROBLEMS = ProblemCatalogue("sagas")
SAGA_NOT_FOUND = SAGA_PROBLEMS.define(
    "saga-not-found", "Saga not found", 404, "The operator API has no saga with this id."
)
CHOREOGRAPHY_NOT_FOUND = SAGA_PROBLEMS.define(
    "choreography-not-found",
    "Choreography not found",
    404,
    "No event of a choreography with this correlation id was seen.",
)


def _row(summary: SagaSummary) -> SagaRow:
    return SagaRow(
        id=summary.id,
        type=summary.saga_type,
        status=summary.status,
        step=summary.step,
        attempts=summary.attempts,
        failure=summary.failure,
        created_at=summary.created_at,
        updated_at=summary.updated_at,
    )


def _step(step: StepView) -> SagaStep:
    return SagaStep(
        name=step.name,
        state=step.state,
        attempts=step.attempts,
        compensation_attempts=step.compensation_attempts,
        has_compensation=step.has_compensation,
    )


def _attempt(entry: HistoryEntry) -> SagaAttempt:
    return SagaAttempt(
        at=entry.at,
        step=entry.step,
        phase=entry.phase.value,
        outcome=entry.outcome.value,
        attempt=entry.attempt,
        error=entry.error,
    )


def _detail(view: SagaView) -> SagaDetail:
    return SagaDetail(
        **_row(view.summary).model_dump(),
        data=view.data,
        next_attempt_at=view.next_attempt_at,
        owner=view.owner,
        lease_expires_at=view.lease_expires_at,
        steps=[_step(step) for step in view.steps],
        history=[_attempt(entry) for entry in view.history],
    )


def sagas_router(
    orchestrator: Callable[[], SagaOrchestrator], prefix: str = SAGAS_PATH
) -> APIRouter:
    """The endpoints over the sagas ``orchestrator()`` drives (built in the lifespan, read
    from the app's composition root). Include it with the operator token required."""
    router = APIRouter(prefix=prefix, tags=["sagas"])

    async def current() -> SagaOrchestrator:
        return orchestrator()

    Sagas = Annotated[SagaOrchestrator, Depends(current)]

    @router.get("")
    async def list_sagas(
        sagas: Sagas,
        status: SagaStatus | None = None,
        saga_type: Annotated[str | None, Query(alias="type", max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 50,
    ) -> SagaList:
        """The most recently updated sagas, of one status or type if asked."""
        summaries = await sagas.recent(status=status, saga_type=saga_type, limit=limit)
        return SagaList(items=[_row(summary) for summary in summaries])

    @router.get("/{saga_id}")
    async def get_saga(saga_id: str, sagas: Sagas) -> SagaDetail:
        """One saga with its steps and its whole history."""
        view = await sagas.view(saga_id)
        if view is None:
            raise Problem(SAGA_NOT_FOUND, f"No saga with id '{saga_id}'.")
        return _detail(view)

    return router


def _participant(view: ParticipantView) -> ChoreographyParticipant:
    return ChoreographyParticipant(
        name=view.name,
        state=view.state,
        answered_by=view.answered_by,
        answered_at=view.answered_at,
        deadline=view.deadline,
    )


def _event(seen: SeenEvent) -> ChoreographyEvent:
    return ChoreographyEvent(
        id=seen.event_id, type=seen.name, source=seen.source, at=seen.occurred_at
    )


def _choreography_row(view: ChoreographyView) -> ChoreographyRow:
    return ChoreographyRow(
        id=view.id,
        type=view.type,
        status=view.status,
        subject=view.subject,
        started_at=view.started_at,
        updated_at=view.updated_at,
        participants=[_participant(participant) for participant in view.participants],
    )


def choreographies_router(
    views: Callable[[], ChoreographyViews], prefix: str = CHOREOGRAPHIES_PATH
) -> APIRouter:
    """The endpoints over the choreographies ``views()`` reconstructs. Include it with the
    operator token required."""
    router = APIRouter(prefix=prefix, tags=["sagas"])

    async def current() -> ChoreographyViews:
        return views()

    Views = Annotated[ChoreographyViews, Depends(current)]

    @router.get("")
    async def list_choreographies(
        choreographies: Views, limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 50
    ) -> ChoreographyList:
        """The choreographies that heard of something last, with each participant's state."""
        found = await choreographies.recent(limit)
        return ChoreographyList(items=[_choreography_row(view) for view in found])

    @router.get("/{correlation_id}")
    async def get_choreography(correlation_id: str, choreographies: Views) -> ChoreographyDetail:
        """One choreography: each participant's state, and every event seen of it."""
        view = await choreographies.view(correlation_id)
        if view is None:
            raise Problem(
                CHOREOGRAPHY_NOT_FOUND, f"No choreography with correlation id '{correlation_id}'."
            )
        return ChoreographyDetail(
            **_choreography_row(view).model_dump(),
            events=[_event(seen) for seen in view.events],
        )

    return router
