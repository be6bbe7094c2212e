"""Fake steps that do what a test scripts, attempt by attempt, and a clock that moves only when
the orchestrator sleeps. Nothing here touches a database or the network."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from strangler_sagas import (
    BusinessFailure,
    InMemorySagaStore,
    OrchestratorSettings,
    RetryPolicy,
    SagaDefinition,
    SagaOrchestrator,
    Step,
    StepContext,
)

__all__ = [
    "LEASE_SECONDS",
    "Behaviour",
    "FakeTime",
    "Journal",
    "ProcessDied",
    "Scripted",
    "orchestrator",
    "saga_of",
]

LEASE_SECONDS = 30.0

Behaviour = Literal["ok", "decline", "error", "hang", "die"]


class ProcessDied(BaseException):
    """What an attempt looks like from a worker killed in the middle of it: nothing after
    it runs, not even the code that would give the lease up."""


class FakeTime:
    """The orchestrator's clock and sleep: sleeping moves the clock, instantly."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


@dataclass
class Journal:
    """Every call of every action and compensation, in order: ``("reserve", 1)``,
    ``("undo reserve", 2)``."""

    calls: list[tuple[str, int]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class Scripted:
    """An action or compensation that behaves as scripted on each attempt, then succeeds."""

    def __init__(self, journal: Journal, label: str, *behaviours: Behaviour) -> None:
        self.journal = journal
        self.label = label
        self.behaviours = list(behaviours)

    async def __call__(self, context: StepContext) -> Mapping[str, Any] | None:
        self.journal.calls.append((self.label, context.attempt))
        behaviour = self.behaviours.pop(0) if self.behaviours else "ok"
        if behaviour == "decline":
            raise BusinessFailure("card declined")
        if behaviour == "error":
            raise ConnectionError("provider unreachable")
        if behaviour == "hang":
            await asyncio.Event().wait()
        if behaviour == "die":
            raise ProcessDied
        return {self.label.replace(" ", "_"): f"done at attempt {context.attempt}"}


def saga_of(
    journal: Journal,
    scripts: Mapping[str, tuple[Behaviour, ...]] | None = None,
    *,
    attempts: int = 3,
    timeout_seconds: float = 5.0,
    without_compensation: tuple[str, ...] = (),
    sensitive: frozenset[str] = frozenset(),
) -> SagaDefinition:
    """``reserve → invoice → charge → confirm``; ``scripts`` says how each action (``charge``)
    or compensation (``undo charge``) behaves, attempt by attempt."""
    scripts = scripts or {}
    policy = RetryPolicy(max_attempts=attempts, initial_delay_seconds=0.5, multiplier=2.0)

    def step(name: str) -> Step:
        undo = None
        if name not in without_compensation:
            undo = Scripted(journal, f"undo {name}", *scripts.get(f"undo {name}", ()))
        return Step(
            name,
            Scripted(journal, name, *scripts.get(name, ())),
            undo,
            timeout_seconds=timeout_seconds,
            retry=policy,
        )

    return SagaDefinition(
        "order",
        tuple(step(name) for name in ("reserve", "invoice", "charge", "confirm")),
        sensitive=sensitive,
    )


def orchestrator(
    store: InMemorySagaStore,
    definition: SagaDefinition,
    time: FakeTime,
    owner: str = "worker-1",
    poll_seconds: float = 1.0,
) -> SagaOrchestrator:
    return SagaOrchestrator(
        store,
        [definition],
        settings=OrchestratorSettings(lease_seconds=LEASE_SECONDS, poll_seconds=poll_seconds),
        clock=time,
        sleep=time.sleep,
        owner=owner,
    )
