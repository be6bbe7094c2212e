"""The saga orchestrator on fake steps, an in-memory store and a clock that moves only when
told: every path of a saga, its compensations, its retries, its timeouts and its resumption."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from strangler_sagas import (
    REDACTED,
    InMemorySagaStore,
    OrchestratorSettings,
    Outcome,
    Phase,
    SagaOrchestrator,
    SagaState,
    SagaStatus,
)

from tests.support.polling import eventually
from tests.unit.sagas.scripted import (
    LEASE_SECONDS,
    FakeTime,
    Journal,
    ProcessDied,
    orchestrator,
    saga_of,
)

STEPS = ["reserve", "invoice", "charge", "confirm"]


@pytest.fixture
def store() -> InMemorySagaStore:
    return InMemorySagaStore()


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def journal() -> Journal:
    return Journal()


async def test_a_saga_whose_steps_all_succeed_completes_running_each_action_once(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    sagas = orchestrator(store, saga_of(journal), time)
    started = await sagas.start("order", {"order_id": "o-1"})

    final = await sagas.drive(started.saga.id)

    assert final is not None
    assert (final.status, final.step_name, final.owner) == (SagaStatus.COMPLETED, None, None)
    assert journal.names() == STEPS
    assert final.data == {
        "order_id": "o-1",
        "reserve": "done at attempt 1",
        "invoice": "done at attempt 1",
        "charge": "done at attempt 1",
        "confirm": "done at attempt 1",
    }
    history = await store.history(final.id)
    assert [(e.step, e.phase, e.outcome) for e in history] == [
        (name, Phase.ACTION, Outcome.SUCCEEDED) for name in STEPS
    ]


async def test_a_business_failure_compensates_the_completed_steps_in_reverse_order(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    sagas = orchestrator(store, saga_of(journal, {"charge": ("decline",)}), time)
    started = await sagas.start("order", {})

    final = await sagas.drive(started.saga.id)

    assert final is not None
    assert final.status is SagaStatus.COMPENSATED
    assert final.failure == "charge: card declined"
    assert journal.names() == ["reserve", "invoice", "charge", "undo invoice", "undo reserve"]
    history = await store.history(final.id)
    assert [(e.step, e.phase, e.outcome) for e in history][2:] == [
        ("charge", Phase.ACTION, Outcome.FAILED),
        ("invoice", Phase.COMPENSATION, Outcome.SUCCEEDED),
        ("reserve", Phase.COMPENSATION, Outcome.SUCCEEDED),
    ]
    assert time.slept == [], "a business failure is not retried"


async def test_a_transient_failure_is_retried_with_growing_backoff_until_it_succeeds(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    sagas = orchestrator(store, saga_of(journal, {"charge": ("error", "error")}), time)
    started = await sagas.start("order", {})

    final = await sagas.drive(started.saga.id)

    assert final is not None
    assert final.status is SagaStatus.COMPLETED
    assert journal.calls == [
        ("reserve", 1), ("invoice", 1), ("charge", 1), ("charge", 2), ("charge", 3), ("confirm", 1),
    ]  # fmt: skip
    assert time.slept == [0.5, 1.0]
    charge = [e for e in await store.history(final.id) if e.step == "charge"]
    assert [(e.outcome, e.attempt, e.error) for e in charge] == [
        (Outcome.ERRORED, 1, "ConnectionError: provider unreachable"),
        (Outcome.ERRORED, 2, "ConnectionError: provider unreachable"),
        (Outcome.SUCCEEDED, 3, None),
    ]
    assert final.data["charge"] == "done at attempt 3"


async def test_a_step_out_of_retries_compensates_itself_then_the_steps_before_it(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    script = {"charge": ("error", "error", "error")}
    sagas = orchestrator(store, saga_of(journal, script, attempts=3), time)
    started = await sagas.start("order", {})

    final = await sagas.drive(started.saga.id)

    assert final is not None
    assert final.status is SagaStatus.COMPENSATED
    assert final.failure == (
        "charge: gave up after 3 attempts: ConnectionError: provider unreachable"
    )
    assert journal.names() == [
        "reserve", "invoice", "charge", "charge", "charge",
        "undo charge", "undo invoice", "undo reserve",
    ]  # fmt: skip
    assert "confirm" not in journal.names()


async def test_a_failing_compensation_is_retried_and_each_failed_attempt_is_recorded(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    script = {"charge": ("decline",), "undo invoice": ("error", "error")}
    sagas = orchestrator(store, saga_of(journal, script), time)
    started = await sagas.start("order", {})

    final = await sagas.drive(started.saga.id)

    assert final is not None
    assert final.status is SagaStatus.COMPENSATED
    undo = [e for e in await store.history(final.id) if e.phase is Phase.COMPENSATION]
    assert [(e.step, e.outcome, e.attempt) for e in undo] == [
        ("invoice", Outcome.ERRORED, 1),
        ("invoice", Outcome.ERRORED, 2),
        ("invoice", Outcome.SUCCEEDED, 3),
        ("reserve", Outcome.SUCCEEDED, 1),
    ]
    assert time.slept == [0.5, 1.0]


async def test_a_compensation_that_never_succeeds_stops_the_saga_for_an_operator(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    script = {"charge": ("decline",), "undo invoice": ("error", "error", "error")}
    sagas = orchestrator(store, saga_of(journal, script, attempts=3), time)
    started = await sagas.start("order", {})

    final = await sagas.drive(started.saga.id)

    assert final is not None
    assert (final.status, final.step_name) == (SagaStatus.COMPENSATION_FAILED, "invoice")
    assert final.failure == "charge: card declined"
    assert "undo reserve" not in journal.names(), "what came before is not undone past a failure"
    last = (await store.history(final.id))[-1]
    assert (last.step, last.phase, last.outcome, last.attempt, last.error) == (
        "invoice",
        Phase.COMPENSATION,
        Outcome.ERRORED,
        3,
        "ConnectionError: provider unreachable",
    )
    view = await sagas.view(final.id)
    assert view is not None
    assert [(step.name, step.state) for step in view.steps] == [
        ("reserve", "succeeded"),
        ("invoice", "compensation_failed"),
        ("charge", "failed"),
        ("confirm", "not_run"),
    ]


async def test_an_attempt_that_exceeds_the_step_timeout_is_a_failed_attempt_and_retried(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    sagas = orchestrator(store, saga_of(journal, {"charge": ("hang",)}, timeout_seconds=0.05), time)
    started = await sagas.start("order", {})

    final = await sagas.drive(started.saga.id)

    assert final is not None
    assert final.status is SagaStatus.COMPLETED
    charge = [e for e in await store.history(final.id) if e.step == "charge"]
    assert [(e.outcome, e.error) for e in charge] == [
        (Outcome.TIMED_OUT, "no outcome within 0.05 s"),
        (Outcome.SUCCEEDED, None),
    ]


async def test_a_resumed_saga_continues_at_its_step_and_never_reruns_a_completed_action(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    first = orchestrator(store, saga_of(journal, {"charge": ("die",)}), time, owner="worker-1")
    started = await first.start("order", {})
    with pytest.raises(ProcessDied):
        await first.drive(started.saga.id)
    crashed = await store.get(started.saga.id)
    assert crashed is not None
    assert (crashed.status, crashed.step_name, crashed.owner) == (
        SagaStatus.RUNNING,
        "charge",
        "worker-1",
    )
    assert crashed.attempt_started_at is not None

    journal.calls.clear()
    second = orchestrator(store, saga_of(journal), time, owner="worker-2")
    assert await second.drive(started.saga.id) is None, "the dead worker's lease still holds"
    time.advance(LEASE_SECONDS + 10)
    final = await second.drive(started.saga.id)

    assert final is not None
    assert final.status is SagaStatus.COMPLETED
    assert journal.calls == [("charge", 2), ("confirm", 1)]
    history = await store.history(final.id)
    assert [(e.step, e.outcome, e.attempt) for e in history] == [
        ("reserve", Outcome.SUCCEEDED, 1),
        ("invoice", Outcome.SUCCEEDED, 1),
        ("charge", Outcome.INTERRUPTED, 1),
        ("charge", Outcome.SUCCEEDED, 2),
        ("confirm", Outcome.SUCCEEDED, 1),
    ]


async def test_a_worker_that_lost_its_lease_cannot_change_the_saga(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    sagas = orchestrator(store, saga_of(journal), time, owner="worker-1")
    started = await sagas.start("order", {})
    claimed = await store.claim(started.saga.id, "worker-1", time(), time.now)
    assert claimed is not None
    time.advance(1)

    taken = await store.claim(started.saga.id, "worker-2", time(), time.now)
    claimed.step_index = 3

    assert taken is not None
    assert await store.save(claimed, "worker-1") is False
    stored = await store.get(started.saga.id)
    assert stored is not None
    assert (stored.owner, stored.step_index) == ("worker-2", 0)


async def test_the_background_loop_resumes_in_flight_sagas_whose_lease_expired(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    dead = orchestrator(store, saga_of(journal, {"invoice": ("die",)}), time, owner="dead")
    started = await dead.start("order", {})
    with pytest.raises(ProcessDied):
        await dead.drive(started.saga.id)
    time.advance(LEASE_SECONDS + 10)
    journal.calls.clear()

    restarted = orchestrator(store, saga_of(journal), time, owner="restarted", poll_seconds=0.01)
    stop = asyncio.Event()
    loop = asyncio.create_task(restarted.run(stop))

    async def completed() -> bool:
        saga = await store.get(started.saga.id)
        return saga is not None and saga.status is SagaStatus.COMPLETED

    try:
        await eventually(completed, "the restarted worker completes the saga", within=10)
    finally:
        stop.set()
        await loop
    assert journal.calls == [("invoice", 2), ("charge", 1), ("confirm", 1)]


async def test_a_saga_started_twice_with_one_key_is_one_saga(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    sagas = orchestrator(store, saga_of(journal), time)

    first = await sagas.start("order", {"order_id": "o-1"}, idempotency_key="key-1")
    again = await sagas.start("order", {"order_id": "o-2"}, idempotency_key="key-1")
    other = await sagas.start("order", {"order_id": "o-3"}, idempotency_key="key-2")

    assert (first.created, again.created, other.created) == (True, False, True)
    assert again.saga.id == first.saga.id
    assert again.saga.data == {"order_id": "o-1"}
    assert other.saga.id != first.saga.id
    assert len(store.sagas) == 2


async def test_the_read_model_shows_each_step_and_never_the_sensitive_data(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    definition = saga_of(
        journal,
        {"charge": ("error", "error")},
        attempts=2,
        without_compensation=("invoice",),
        sensitive=frozenset({"card_number"}),
    )
    sagas = orchestrator(store, definition, time)
    started = await sagas.start("order", {"card_number": "4242424242424242", "plan": "pro"})

    in_flight = await sagas.view(started.saga.id)
    await sagas.drive(started.saga.id)
    ended = await sagas.view(started.saga.id)

    assert in_flight is not None
    assert in_flight.data == {"card_number": REDACTED, "plan": "pro"}
    assert [step.state for step in in_flight.steps] == ["running", "pending", "pending", "pending"]
    assert ended is not None
    assert ended.summary.status is SagaStatus.COMPENSATED
    assert [(s.name, s.state, s.attempts, s.compensation_attempts) for s in ended.steps] == [
        ("reserve", "compensated", 1, 1),
        ("invoice", "succeeded", 1, 0),
        ("charge", "compensated", 2, 1),
        ("confirm", "not_run", 0, 0),
    ]
    stored = await store.get(started.saga.id)
    assert stored is not None
    assert "card_number" not in stored.data, "a finished saga keeps no sensitive data"
    assert [summary.id for summary in await sagas.recent()] == [started.saga.id]
    assert await sagas.recent(status=SagaStatus.RUNNING) == []


async def test_a_worker_whose_lease_was_taken_mid_attempt_abandons_the_attempt(
    store: InMemorySagaStore, time: FakeTime, journal: Journal
) -> None:
    definition = saga_of(journal, {"charge": ("hang",)}, timeout_seconds=60)
    sagas = SagaOrchestrator(
        store,
        [definition],
        settings=OrchestratorSettings(lease_seconds=0.03),
        clock=time,
        sleep=time.sleep,
        owner="stalled",
    )
    started = await sagas.start("order", {})
    drive = asyncio.create_task(sagas.drive(started.saga.id))

    async def charging() -> bool:
        return ("charge", 1) in journal.calls

    await eventually(charging, "the charge is attempted", within=10, every=0.01)
    store.sagas[started.saga.id].owner = "another-worker"

    assert await asyncio.wait_for(drive, 10) is None
    stored = await store.get(started.saga.id)
    assert stored is not None
    assert (stored.owner, stored.step_name) == ("another-worker", "charge")
    assert [e.step for e in await store.history(started.saga.id)] == ["reserve", "invoice"]


class CountingStore(InMemorySagaStore):
    """The in-memory store, counting the claims and polls the orchestrator makes."""

    def __init__(self) -> None:
        super().__init__()
        self.claims = 0
        self.polls = 0

    async def claim(
        self, saga_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> SagaState | None:
        self.claims += 1
        return await super().claim(saga_id, owner, now, lease_until)

    async def claim_due(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[SagaState]:
        self.polls += 1
        return await super().claim_due(owner, now, lease_until, limit)


async def test_a_saga_started_while_the_loop_runs_is_stored_held_and_driven_without_a_claim(
    time: FakeTime, journal: Journal
) -> None:
    store = CountingStore()
    sagas = orchestrator(store, saga_of(journal), time, poll_seconds=60)
    stop = asyncio.Event()
    loop = asyncio.create_task(sagas.run(stop))
    await eventually(lambda: _true(store.polls >= 1), "the loop polled once", within=10)

    started = await sagas.start("order", {"order_id": "o-1"})

    assert (started.saga.owner, started.saga.attempts) == ("worker-1", 1)
    assert started.saga.attempt_started_at == time.now, "its first attempt recorded as started"
    stored = await store.get(started.saga.id)
    assert stored is not None
    assert stored.owner == "worker-1"
    assert sagas.view_of(started.saga).steps[0].state == "running"

    async def completed() -> bool:
        saga = await store.get(started.saga.id)
        return saga is not None and saga.status is SagaStatus.COMPLETED

    await eventually(completed, "the saga runs at once, no poll needed", within=10, every=0.01)
    stop.set()
    await loop
    assert (store.claims, store.polls) == (0, 1)
    assert journal.calls == [("reserve", 1), ("invoice", 1), ("charge", 1), ("confirm", 1)]


async def test_a_saga_started_with_no_room_left_is_stored_free_for_the_next_poll(
    time: FakeTime, journal: Journal
) -> None:
    store = CountingStore()
    sagas = SagaOrchestrator(
        store,
        [saga_of(journal, {"reserve": ("hang",)}, timeout_seconds=3600)],
        settings=OrchestratorSettings(
            lease_seconds=LEASE_SECONDS,
            poll_seconds=60,
            max_concurrent=1,
            shutdown_grace_seconds=0.01,
        ),
        clock=time,
        sleep=time.sleep,
        owner="worker-1",
    )
    stop = asyncio.Event()
    loop = asyncio.create_task(sagas.run(stop))
    await eventually(lambda: _true(store.polls >= 1), "the loop polled once", within=10)

    first = await sagas.start("order", {})
    second = await sagas.start("order", {})

    stop.set()
    await loop
    assert (first.saga.owner, second.saga.owner) == ("worker-1", None)
    assert second.saga.attempts == 0
    assert sagas.view_of(second.saga).steps[0].state == "running"


async def _true(value: bool) -> bool:
    return value
