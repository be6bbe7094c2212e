"""A choreography nobody orchestrates, put together from the events its participants publish:
who answered, who the others wait for, and who is late."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from strangler_sagas import ChoreographyDefinition, Participant, SeenEvent, reconstruct

REQUESTED = "accounts.account-closure-requested"
BILLED = "billing.billing-closed-for-account"
DECLINED = "billing.account-closure-refund-declined"
ERASED = "notifications.farewell-sent-and-data-erased"
CLOSED = "accounts.account-closed"
DEADLINE = 60.0
START = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)

CLOSURE = ChoreographyDefinition(
    "account-closure",
    started_by=REQUESTED,
    participants=(
        Participant("billing", {BILLED: "done", DECLINED: "declined"}, DEADLINE),
        Participant("notifications", {ERASED: "done"}, DEADLINE, after=("billing",)),
        Participant("accounts", {CLOSED: "done"}, DEADLINE, after=("billing", "notifications")),
    ),
    finished_by=CLOSED,
)


def _seen(name: str, after_seconds: float, correlation: str = "closure-1") -> SeenEvent:
    return SeenEvent(
        correlation_id=correlation,
        event_id=str(uuid.uuid4()),
        name=name,
        source="/" + name.split(".")[0],
        subject="user-1",
        occurred_at=START + timedelta(seconds=after_seconds),
    )


def _states(events: list[SeenEvent], at_seconds: float) -> tuple[str, dict[str, str]]:
    view = reconstruct(CLOSURE, events, START + timedelta(seconds=at_seconds))
    assert view is not None
    return view.status, {p.name: p.state for p in view.participants}


def test_every_participant_answering_completes_the_choreography() -> None:
    events = [_seen(CLOSED, 3), _seen(REQUESTED, 0), _seen(ERASED, 2), _seen(BILLED, 1)]

    view = reconstruct(CLOSURE, events, START + timedelta(hours=1))

    assert view is not None
    assert (view.id, view.status, view.subject) == ("closure-1", "completed", "user-1")
    assert [seen.name for seen in view.events] == [REQUESTED, BILLED, ERASED, CLOSED]
    assert {p.name: p.state for p in view.participants} == dict.fromkeys(
        ("billing", "notifications", "accounts"), "done"
    )


def test_a_participant_waits_until_those_before_it_are_done() -> None:
    status, states = _states([_seen(REQUESTED, 0), _seen(BILLED, 1)], at_seconds=5)

    assert status == "in_progress"
    assert states == {"billing": "done", "notifications": "pending", "accounts": "waiting"}


def test_a_declined_answer_pauses_the_choreography_and_keeps_the_next_ones_waiting() -> None:
    events = [_seen(REQUESTED, 0), _seen(DECLINED, 1)]

    status, states = _states(events, at_seconds=DEADLINE * 10)

    assert status == "paused"
    assert states == {"billing": "declined", "notifications": "waiting", "accounts": "waiting"}


def test_a_later_answer_replaces_an_earlier_one() -> None:
    events = [_seen(REQUESTED, 0), _seen(DECLINED, 1), _seen(BILLED, 30), _seen(ERASED, 2)]

    status, states = _states(events, at_seconds=31)

    assert status == "in_progress"
    assert states["billing"] == "done"
    assert states["accounts"] == "pending"


def test_started_again_the_answers_before_count_no_more() -> None:
    resumed = [_seen(REQUESTED, 0), _seen(DECLINED, 1), _seen(REQUESTED, 20)]

    status, states = _states(resumed, at_seconds=21)
    completed = _states([*resumed, _seen(BILLED, 22), _seen(ERASED, 23), _seen(CLOSED, 24)], 25)

    assert status == "in_progress"  # a paused closure resumed: billing is asked again
    assert states == {"billing": "pending", "notifications": "waiting", "accounts": "waiting"}
    everyone = ("billing", "notifications", "accounts")
    assert completed == ("completed", dict.fromkeys(everyone, "done"))


def test_a_participant_silent_past_its_deadline_shows_as_stuck() -> None:
    events = [_seen(REQUESTED, 0), _seen(BILLED, 1)]

    before = _states(events, at_seconds=DEADLINE - 1)
    after = _states(events, at_seconds=DEADLINE + 5)

    assert before == (
        "in_progress",
        {"billing": "done", "notifications": "pending", "accounts": "waiting"},
    )
    assert after == ("stuck", {"billing": "done", "notifications": "stuck", "accounts": "waiting"})


def test_a_participant_s_deadline_runs_from_the_last_answer_it_waited_for() -> None:
    events = [_seen(REQUESTED, 0), _seen(BILLED, 1), _seen(ERASED, 50)]

    view = reconstruct(CLOSURE, events, START + timedelta(seconds=DEADLINE + 10))

    assert view is not None
    auth = view.participants[-1]
    assert (auth.state, auth.due_since) == ("pending", START + timedelta(seconds=50))
    assert auth.deadline == START + timedelta(seconds=50 + DEADLINE)


def test_answers_without_the_request_are_not_a_choreography_yet() -> None:
    assert reconstruct(CLOSURE, [_seen(BILLED, 1)], START) is None


def test_a_participant_can_only_wait_for_one_listed_before_it() -> None:
    with pytest.raises(ValueError, match="waits for"):
        ChoreographyDefinition(
            "backwards",
            started_by=REQUESTED,
            participants=(Participant("accounts", {CLOSED: "done"}, DEADLINE, after=("billing",)),),
        )
