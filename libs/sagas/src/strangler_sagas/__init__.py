"""Orchestrated sagas: business flows that span services, with real compensations.

- ``SagaDefinition`` is a saga type: a declarative, ordered list of ``Step``s, each with its
  action, its compensation (or ``None``), a timeout and a ``RetryPolicy``.
- ``SagaOrchestrator`` starts sagas, drives them (timeouts, retries with backoff, reverse
  compensation), persists every attempt's outcome before going on, and resumes in-flight
  sagas after a crash once their lease has expired. ``run(stop)`` is its background loop.
- ``saga_tables(metadata)`` adds the saga tables to a service's own metadata;
  ``SqlSagaStore`` keeps sagas there, ``InMemorySagaStore`` in memory for unit tests.
- ``view`` and ``recent`` are the read models an API serves; ``strangler_sagas.routes``
  serves them to operators (``sagas_router``, outside ``/api``).
- Choreographies — workflows nobody orchestrates — are seen from outside:
  ``ChoreographyDefinition`` says who takes part and what their events mean, an observer
  keeps the events it sees (``ChoreographyLog``) and ``ChoreographyViews`` reconstructs each
  one by correlation id, with every participant's state and who is late
  (``choreographies_router`` serves them).
"""

from strangler_sagas.choreography import (
    ChoreographyDefinition,
    ChoreographyView,
    Participant,
    ParticipantView,
    SeenEvent,
    reconstruct,
)
from strangler_sagas.choreography_sql import (
    ChoreographyLog,
    ChoreographyViews,
    choreography_events_table,
)
from strangler_sagas.definition import (
    BusinessFailure,
    RetryPolicy,
    SagaDefinition,
    Step,
    StepCall,
    StepContext,
)
from strangler_sagas.memory import InMemorySagaStore
from strangler_sagas.orchestrator import (
    REDACTED,
    OrchestratorSettings,
    SagaOrchestrator,
    Started,
    UnknownSagaType,
)
from strangler_sagas.sql import SagaTables, SqlSagaStore, saga_tables
from strangler_sagas.state import (
    IN_FLIGHT,
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
    "IN_FLIGHT",
    "REDACTED",
    "BusinessFailure",
    "ChoreographyDefinition",
    "ChoreographyLog",
    "ChoreographyView",
    "ChoreographyViews",
    "HistoryEntry",
    "InMemorySagaStore",
    "OrchestratorSettings",
    "Outcome",
    "Participant",
    "ParticipantView",
    "Phase",
    "RetryPolicy",
    "SagaDefinition",
    "SagaOrchestrator",
    "SagaState",
    "SagaStatus",
    "SagaStore",
    "SagaSummary",
    "SagaTables",
    "SagaView",
    "SeenEvent",
    "SqlSagaStore",
    "Started",
    "Step",
    "StepCall",
    "StepContext",
    "StepView",
    "UnknownSagaType",
    "choreography_events_table",
    "reconstruct",
    "saga_tables",
]
