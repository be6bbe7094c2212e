"""What the saga operator API answers, read by the service serving it (``routes``) and by
``strangler sagas`` (the runner's client): one definition for both sides.

``GET /internal/sagas``                 a ``SagaList``
``GET /internal/sagas/{id}``            a ``SagaDetail``
``GET /internal/choreographies``        a ``ChoreographyList``
``GET /internal/choreographies/{id}``   a ``ChoreographyDetail``

Keys added later are ignored by readers, so an older ``strangler`` keeps working. Pydantic
only: the client imports nothing of the orchestrator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

__all__ = [
    "CHOREOGRAPHIES_PATH",
    "SAGAS_PATH",
    "ChoreographyDetail",
    "ChoreographyEvent",
    "ChoreographyList",
    "ChoreographyParticipant",
    "ChoreographyRow",
    "SagaAttempt",
    "SagaDetail",
    "SagaList",
    "SagaRow",
    "SagaStep",
]

SAGAS_PATH = "/internal/sagas"


class SagaRow(BaseModel):
    """One saga as a list shows it."""

    id: str
    type: str
    status: str
    step: str | None
    attempts: int
    failure: str | None = None
    created_at: datetime
    updated_at: datetime


class SagaList(BaseModel):
    items: list[SagaRow]


class SagaStep(BaseModel):
    """Where one step stands."""

    name: str
    state: str
    attempts: int
    compensation_attempts: int
    has_compensation: bool = True


class SagaAttempt(BaseModel):
    """One attempt of an action or a compensation, as its history records it."""

    at: datetime
    step: str
    phase: str
    outcome: str
    attempt: int
    error: str | None = None


class SagaDetail(SagaRow):
    """One saga in full: its data (sensitive keys redacted), steps and whole history."""

    data: dict[str, Any] = {}
    next_attempt_at: datetime | None = None
    owner: str | None = None
    lease_expires_at: datetime | None = None
    steps: list[SagaStep] = []
    history: list[SagaAttempt] = []


CHOREOGRAPHIES_PATH = "/internal/choreographies"


class ChoreographyParticipant(BaseModel):
    """Where one participant of a choreography stands."""

    name: str
    state: str
    answered_by: str | None = None
    answered_at: datetime | None = None
    deadline: datetime | None = None


class ChoreographyRow(BaseModel):
    """One choreography as a list shows it: reconstructed from its events by correlation id."""

    id: str
    type: str
    status: str
    subject: str
    started_at: datetime
    updated_at: datetime
    participants: list[ChoreographyParticipant] = []


class ChoreographyList(BaseModel):
    items: list[ChoreographyRow]


class ChoreographyEvent(BaseModel):
    """One event of a choreography, as the observer saw it."""

    id: str
    type: str
    source: str
    at: datetime


class ChoreographyDetail(ChoreographyRow):
    events: list[ChoreographyEvent] = []
