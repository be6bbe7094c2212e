"""What a saga is: a declarative, ordered list of steps, each with its compensation.

A service declares its saga once, as data::

    checkout = SagaDefinition(
        "checkout",
        (
            Step("start-subscription", start_subscription, cancel_subscription),
            Step("issue-invoice", issue_invoice, void_invoice),
            Step("charge-card", charge_card, refund_charge, timeout_seconds=60),
            Step("activate-subscription", activate_subscription, None),
        ),
    )

Every action and compensation is an ``async`` callable taking a ``StepContext`` and answering
the data it adds to the saga (or ``None``). Both may run more than once — after a timeout, a
transient error or a crash — so both must be idempotent: derive every id and every
idempotency key from the saga's data, never from a fresh random value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BusinessFailure",
    "RetryPolicy",
    "SagaDefinition",
    "Step",
    "StepCall",
    "StepContext",
]


class BusinessFailure(Exception):
    """The step cannot succeed, however often it is tried (a declined card): compensate now.

    Raise it only when the attempt left nothing for the step's own compensation to undo; the
    orchestrator then compensates the steps before it. Any other exception is transient: the
    attempt is retried, and when the retries are used up the step's outcome counts as
    unknown, so its own compensation runs too.
    """


@dataclass(frozen=True)
class RetryPolicy:
    """How often a transient failure is retried, and how long to wait between attempts.

    The wait after attempt *n* is ``initial_delay_seconds * multiplier ** (n - 1)``, at most
    ``max_delay_seconds``; after ``max_attempts`` attempts the step gives up.
    """

    max_attempts: int = 5
    initial_delay_seconds: float = 0.5
    multiplier: float = 2.0
    max_delay_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("a step is attempted at least once: max_attempts >= 1")
        if self.initial_delay_seconds < 0 or self.max_delay_seconds < 0:
            raise ValueError("delays are not negative")
        if self.multiplier < 1:
            raise ValueError("backoff does not shrink: multiplier >= 1")

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after the failed attempt number ``attempt`` (1 for the first)."""
        delay = self.initial_delay_seconds * self.multiplier ** max(0, attempt - 1)
        return float(min(self.max_delay_seconds, delay))


@dataclass(frozen=True)
class StepContext:
    """What an action or a compensation is told about the saga it works for.

    ``data`` is the saga's data as the previous steps left it (a copy: change the saga by
    returning a mapping). ``failure`` says why the saga compensates, when it does.

    ``transaction``: where the store keeps sagas in the step's own database, a transaction
    on it (for ``SqlSagaStore``, an ``AsyncSession`` that connects when first used), else
    ``None``. A step may write its changes there instead of in a transaction of its own, and
    must not commit it: when the step succeeds, the orchestrator writes the saga's new state
    into the same transaction and commits both — the step's changes exist exactly when its
    outcome does, in one commit instead of two. When the step fails, times out or the lease
    is lost, the transaction is rolled back with whatever the step wrote in it.
    """

    saga_id: str
    saga_type: str
    step: str
    attempt: int
    data: Mapping[str, Any]
    failure: str | None = None
    transaction: Any = None


StepCall = Callable[[StepContext], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True)
class Step:
    """One step: its action, its compensation (``None`` when there is nothing to undo), the
    time one attempt may take, and the retry policy of its action and of its compensation.

    ``compensation`` has no default on purpose: each step says what undoes it, or that
    nothing has to.
    """

    name: str
    action: StepCall
    compensation: StepCall | None
    timeout_seconds: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    compensation_retry: RetryPolicy | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a step has a name")
        if self.timeout_seconds <= 0:
            raise ValueError(f"step {self.name!r}: timeout_seconds > 0")

    @property
    def compensation_policy(self) -> RetryPolicy:
        return self.compensation_retry or self.retry


@dataclass(frozen=True)
class SagaDefinition:
    """A saga type: its name and its steps, in the order they run.

    ``sensitive`` names data keys the read models never show (a card number, say); they are
    erased when the saga completes or is compensated.
    """

    saga_type: str
    steps: tuple[Step, ...]
    sensitive: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"saga {self.saga_type!r} has no steps")
        names = [step.name for step in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"saga {self.saga_type!r}: step names repeat: {names}")

    def step_name(self, index: int) -> str | None:
        return self.steps[index].name if 0 <= index < len(self.steps) else None
