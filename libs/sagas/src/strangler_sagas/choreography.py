"""Choreographed sagas, seen from outside: a workflow nobody orchestrates, reconstructed from
the events its participants publish.

In a choreography each participant reacts to events and publishes its own outcome; no
process holds the workflow's state. To show where one stands — which participant answered,
which one the others wait for, which one is late — an observer keeps every event of the
workflow it sees (``choreography_sql``) and puts them together by correlation id: every
event caused by the first one carries the same ``correlationid``.

A ``ChoreographyDefinition`` says which event starts it, who takes part, what each
participant's answers mean, and whose answers each one waits for::

    closure = ChoreographyDefinition(
        "account-closure",
        started_by="accounts.account-closure-requested",
        participants=(
            Participant("billing", {"billing.billing-closed-for-account": "done",
                                    "billing.account-closure-refund-declined": "declined"},
                        deadline_seconds=300),
            Participant("notifications", {...: "done"}, deadline_seconds=300),
            Participant("auth", {"accounts.account-closed": "done"}, deadline_seconds=300,
                        after=("billing", "notifications")),
        ),
        finished_by="accounts.account-closed",
    )

Where each participant stands (``ParticipantState``):

- ``waiting``: someone it waits for (``after``) has not answered ``done`` yet;
- ``pending``: it is due to answer — since the start, or since the last of those it waits
  for answered — and its deadline has not passed;
- ``stuck``: it is due and its deadline passed without an answer (stopped, or lost);
- ``done`` / ``declined``: its latest answer says so (a later answer replaces an earlier
  one: a refund declined, then granted on a second request, is ``done``).

The choreography is ``completed`` once ``finished_by`` was seen, else ``stuck`` if any
participant is, else ``paused`` if any declined, else ``in_progress``. All of it is computed
when asked, from the events and the clock: nothing but the events is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

__all__ = [
    "Answer",
    "ChoreographyDefinition",
    "ChoreographyStatus",
    "ChoreographyView",
    "Participant",
    "ParticipantState",
    "ParticipantView",
    "SeenEvent",
    "reconstruct",
]

Answer = Literal["done", "declined"]
ParticipantState = Literal["waiting", "pending", "stuck", "done", "declined"]
ChoreographyStatus = Literal["in_progress", "paused", "stuck", "completed"]


@dataclass(frozen=True)
class Participant:
    """One deployable taking part: the events it answers with (by contract ``name``) and
    what each means, how long it may take once due, and whose ``done`` it waits for."""

    name: str
    answers: Mapping[str, Answer]
    deadline_seconds: float
    after: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.answers:
            raise ValueError(f"participant {self.name!r} answers with at least one event")
        if self.deadline_seconds <= 0:
            raise ValueError(f"participant {self.name!r}: deadline_seconds > 0")


@dataclass(frozen=True)
class ChoreographyDefinition:
    """A choreography type: the event that starts one, its participants (each listed after
    those it waits for), and the event that ends it.

    ``personal`` names data fields the observer never keeps: a choreography that erases a
    person's data must not leave a copy of it in the view that watches it.
    """

    name: str
    started_by: str
    participants: tuple[Participant, ...]
    finished_by: str | None = None
    personal: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        known: set[str] = set()
        for participant in self.participants:
            unknown = set(participant.after) - known
            if unknown:
                raise ValueError(
                    f"choreography {self.name!r}: {participant.name!r} waits for "
                    f"{sorted(unknown)}, not listed before it"
                )
            known.add(participant.name)

    @property
    def events(self) -> frozenset[str]:
        """Every event name the choreography is told by."""
        answers = {name for p in self.participants for name in p.answers}
        ends = {self.finished_by} if self.finished_by else set()
        return frozenset({self.started_by, *answers, *ends})


@dataclass(frozen=True)
class SeenEvent:
    """One event of a choreography as the observer recorded it."""

    correlation_id: str
    event_id: str
    name: str
    source: str
    subject: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParticipantView:
    name: str
    state: ParticipantState
    answered_by: str | None = None
    """The event of its latest answer."""
    answered_at: datetime | None = None
    due_since: datetime | None = None
    deadline: datetime | None = None
    """When a participant that has not answered counts as stuck."""


@dataclass(frozen=True)
class ChoreographyView:
    id: str
    """The correlation id."""
    type: str
    status: ChoreographyStatus
    subject: str
    started_at: datetime
    updated_at: datetime
    participants: tuple[ParticipantView, ...]
    events: tuple[SeenEvent, ...]


def reconstruct(
    definition: ChoreographyDefinition, events: Iterable[SeenEvent], now: datetime
) -> ChoreographyView | None:
    """Where one choreography stands at ``now``, from its events (one correlation id);
    None until its starting event was seen."""
    ordered = sorted(events, key=lambda seen: (seen.occurred_at, seen.event_id))
    starts = [seen for seen in ordered if seen.name == definition.started_by]
    if not starts:
        return None
    start = starts[0]
    # Started again (a paused closure resumed): the answers given before count no more.
    current = [seen for seen in ordered if seen.occurred_at >= starts[-1].occurred_at]
    views: dict[str, ParticipantView] = {}
    for participant in definition.participants:
        views[participant.name] = _participant(participant, current, starts[-1], views, now)
    finished = definition.finished_by is not None and any(
        seen.name == definition.finished_by for seen in ordered
    )
    return ChoreographyView(
        id=start.correlation_id,
        type=definition.name,
        status=_status(finished, views.values()),
        subject=start.subject,
        started_at=start.occurred_at,
        updated_at=ordered[-1].occurred_at,
        participants=tuple(views.values()),
        events=tuple(ordered),
    )


def _participant(
    participant: Participant,
    ordered: Sequence[SeenEvent],
    start: SeenEvent,
    answered: Mapping[str, ParticipantView],
    now: datetime,
) -> ParticipantView:
    answer = next((seen for seen in reversed(ordered) if seen.name in participant.answers), None)
    if answer is not None:
        return ParticipantView(
            participant.name,
            participant.answers[answer.name],
            answered_by=answer.name,
            answered_at=answer.occurred_at,
        )
    awaited = [answered[name] for name in participant.after]
    if any(view.state != "done" for view in awaited):
        return ParticipantView(participant.name, "waiting")
    answered_at = [view.answered_at for view in awaited if view.answered_at is not None]
    due_since = max([start.occurred_at, *answered_at])
    deadline = due_since + timedelta(seconds=participant.deadline_seconds)
    state: ParticipantState = "stuck" if now > deadline else "pending"
    return ParticipantView(participant.name, state, due_since=due_since, deadline=deadline)


def _status(finished: bool, participants: Iterable[ParticipantView]) -> ChoreographyStatus:
    states = {view.state for view in participants}
    if finished:
        return "completed"
    if "stuck" in states:
        return "stuck"
    if "declined" in states:
        return "paused"
    return "in_progress"
