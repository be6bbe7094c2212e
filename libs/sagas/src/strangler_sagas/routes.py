"""The operators' view of a service's sagas, outside ``/api`` (the gateway does not route it:
it is for operators and ``strangler sagas``, on the internal network).

``GET {prefix}?status=&type=&limit=``  the most recently updated sagas first
``GET {prefix}/{saga_id}``             one saga: its data (sensitive keys redacted), where
                                       each step stands, and every attempt in order

No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations at
run time, and ``Sagas`` is local to ``sagas_router``.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from http_platform import Problem
from http_platform.problem_catalogue import NOT_FOUND
from pydantic import BaseModel

from strangler_sagas.orchestrator import SagaOrchestrator
from strangler_sagas.state import HistoryEntry, SagaStatus, SagaSummary, SagaView, StepView

__all__ = [
    "MAX_LIST_LIMIT",
    "HistoryOut",
    "SagaDetailOut",
    "SagaListOut",
    "SagaOut",
    "StepOut",
    "sagas_router",
]

MAX_LIST_LIMIT = 500


class SagaOut(BaseModel):
    id: str
    type: str
    status: SagaStatus
    step: str | None
    attempts: int
    failure: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, summary: SagaSummary) -> "SagaOut":
        return cls(
            id=summary.id,
            type=summary.saga_type,
            status=summary.status,
            step=summary.step,
            attempts=summary.attempts,
            failure=summary.failure,
            created_at=summary.created_at,
            updated_at=summary.updated_at,
        )


class StepOut(BaseModel):
    name: str
    state: str
    attempts: int
    compensation_attempts: int
    has_compensation: bool

    @classmethod
    def of(cls, step: StepView) -> "StepOut":
        return cls(
            name=step.name,
            state=step.state,
            attempts=step.attempts,
            compensation_attempts=step.compensation_attempts,
            has_compensation=step.has_compensation,
        )


class HistoryOut(BaseModel):
    at: datetime
    step: str
    phase: str
    outcome: str
    attempt: int
    error: str | None

    @classmethod
    def of(cls, entry: HistoryEntry) -> "HistoryOut":
        return cls(
            at=entry.at,
            step=entry.step,
            phase=entry.phase.value,
            outcome=entry.outcome.value,
            attempt=entry.attempt,
            error=entry.error,
        )


class SagaDetailOut(SagaOut):
    data: dict[str, Any]
    next_attempt_at: datetime | None
    owner: str | None
    lease_expires_at: datetime | None
    steps: list[StepOut]
    history: list[HistoryOut]

    @classmethod
    def of_view(cls, view: SagaView) -> "SagaDetailOut":
        return cls(
            **SagaOut.of(view.summary).model_dump(),
            data=view.data,
            next_attempt_at=view.next_attempt_at,
            owner=view.owner,
            lease_expires_at=view.lease_expires_at,
            steps=[StepOut.of(step) for step in view.steps],
            history=[HistoryOut.of(entry) for entry in view.history],
        )


class SagaListOut(BaseModel):
    items: list[SagaOut]


def sagas_router(
    orchestrator: Callable[[Request], SagaOrchestrator], prefix: str = "/internal/sagas"
) -> APIRouter:
    """The endpoints over the sagas ``orchestrator(request)`` drives (built in the lifespan)."""
    router = APIRouter(prefix=prefix, tags=["sagas"])
    Sagas = Annotated[SagaOrchestrator, Depends(orchestrator)]

    @router.get("")
    async def list_sagas(
        sagas: Sagas,
        status: SagaStatus | None = None,
        saga_type: Annotated[str | None, Query(alias="type", max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 50,
    ) -> SagaListOut:
        """The most recently updated sagas, of one status or type if asked."""
        summaries = await sagas.recent(status=status, saga_type=saga_type, limit=limit)
        return SagaListOut(items=[SagaOut.of(summary) for summary in summaries])

    @router.get("/{saga_id}")
    async def get_saga(saga_id: str, sagas: Sagas) -> "SagaDetailOut":
        """One saga with its steps and its whole history."""
        view = await sagas.view(saga_id)
        if view is None:
            raise Problem(NOT_FOUND, f"No saga with id '{saga_id}'.")
        return SagaDetailOut.of_view(view)

    return router
