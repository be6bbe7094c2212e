"""`strangler sagas [id]`: the billing service's sagas (checkouts), and the choreographies
it watches (account closures), from a terminal.

Billing serves them to operators at `/internal/sagas` and `/internal/choreographies` (outside
`/api`: the gateway does not route them), to callers with the operator token only; the
answers are `strangler_sagas.wire`. Without an id: the most recently updated sagas, one row
each, then the latest choreographies with where each participant stands. With an id: that
saga's data, where each step stands, and every attempt of every action and compensation —
or, for a choreography's id (its correlation id), each participant's state and deadline and
every event seen of it.

Every failure — billing not running, an unknown id, an answer that is not billing's — is one
line on stderr and exit code 1; nobody sees a traceback.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from strangler_sagas.wire import (
    CHOREOGRAPHIES_PATH,
    SAGAS_PATH,
    ChoreographyDetail,
    ChoreographyList,
    ChoreographyRow,
    SagaDetail,
    SagaList,
    SagaRow,
)

from strangler_runner.component_api import ComponentApi, ComponentCallFailed, ComponentProblem
from strangler_runner.console import RunnerConsole
from strangler_runner.operator_credential import operator_headers
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import StateDir
from strangler_runner.status import live_run_record

__all__ = [
    "SAGAS_PATH",
    "BillingSagas",
    "SagaDetail",
    "SagaRow",
    "SagasUnavailable",
    "billing_url",
    "describe_sagas",
    "show_sagas",
]

NOTHING = "—"

# Billing could not be asked, or refused; ``str()`` is the line to show.
SagasUnavailable = ComponentCallFailed


def billing_url(settings: RunnerSettings, given: str | None) -> str:
    """--billing, else STRANGLER_BILLING_URL, else the billing `strangler up` runs here, else
    http://STRANGLER_HOST:STRANGLER_BILLING_PORT."""
    if given or settings.billing_url:
        return given or settings.billing_url or ""
    record = live_run_record(StateDir(settings.state_dir))
    billing = next((c for c in record.components if c.name == "billing"), None) if record else None
    if billing is not None and "http" in billing.urls:
        return billing.urls["http"]
    return f"http://{settings.host}:{settings.billing_port}"


class BillingSagas:
    """Calls on billing's saga endpoints."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_seconds: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api = ComponentApi(
            "billing",
            url,
            "saga endpoints",
            headers=headers,
            timeout_seconds=timeout_seconds,
            transport=transport,
            prefix=SAGAS_PATH,
        )
        self._choreographies = ComponentApi(
            "billing",
            url,
            "choreography endpoints",
            headers=headers,
            timeout_seconds=timeout_seconds,
            transport=transport,
            prefix=CHOREOGRAPHIES_PATH,
        )
        self.url = self._api.url

    def __enter__(self) -> "BillingSagas":
        return self

    def __exit__(self, *_: object) -> None:
        self._api.close()
        self._choreographies.close()

    def recent(self, status: str | None, limit: int) -> list[SagaRow]:
        params: dict[str, str | int] = {"limit": limit}
        if status is not None:
            params["status"] = status
        return self._api.read(SagaList, self._api.call("GET", "", params=params)).items

    def saga(self, saga_id: str) -> SagaDetail:
        return self._api.read(SagaDetail, self._api.call("GET", f"/{quote(saga_id, safe='')}"))

    def choreographies(self, limit: int) -> list[ChoreographyRow]:
        api = self._choreographies
        return api.read(ChoreographyList, api.call("GET", "", params={"limit": limit})).items

    def choreography(self, correlation_id: str) -> ChoreographyDetail:
        api = self._choreographies
        path = f"/{quote(correlation_id, safe='')}"
        return api.read(ChoreographyDetail, api.call("GET", path))


def show_sagas(
    settings: RunnerSettings,
    console: RunnerConsole,
    url: str | None,
    saga_id: str | None,
    status: str | None,
    limit: int,
) -> int:
    """The recent sagas, or one saga in full, from the billing service found by ``url``."""
    with BillingSagas(billing_url(settings, url), headers=operator_headers(settings)) as billing:
        return describe_sagas(billing, console, saga_id, status, limit)


def describe_sagas(
    billing: BillingSagas,
    console: RunnerConsole,
    saga_id: str | None,
    status: str | None,
    limit: int,
) -> int:
    """Show what ``billing`` answers; any failure is one line on stderr, exit 1."""
    try:
        if saga_id is None:
            _show_list(billing.recent(status, limit), console, status)
            choreographies = billing.choreographies(limit)
            _show_choreographies([c for c in choreographies if status in (None, c.status)], console)
        else:
            _show_saga_or_choreography(billing, saga_id, console)
    except SagasUnavailable as failure:
        console.error(str(failure))
        return 1
    return 0


def _when(at: datetime | None) -> str:
    if at is None:
        return NOTHING
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def _cell_time(at: datetime) -> str:
    """UTC, with a space a narrow terminal can wrap at."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _show_list(rows: list[SagaRow], console: RunnerConsole, status: str | None) -> None:
    if not rows:
        console.message(f"no {status} sagas" if status else "no sagas yet")
        return
    console.table(
        ["id", "type", "status", "step", "attempts", "updated (UTC)"],
        [
            [
                row.id,
                row.type,
                row.status,
                row.step or NOTHING,
                str(row.attempts),
                _cell_time(row.updated_at),
            ]
            for row in rows
        ],
        right_aligned=["attempts"],
        unbroken=["id", "type", "status", "attempts"],
    )


def _show_saga_or_choreography(billing: BillingSagas, some_id: str, console: RunnerConsole) -> None:
    """The saga of that id, else the choreography of that correlation id; when neither is
    known, the saga's refusal is the one shown."""
    try:
        _show_one(billing.saga(some_id), console)
    except ComponentProblem as unknown_saga:
        if unknown_saga.status != 404:
            raise
        try:
            choreography = billing.choreography(some_id)
        except ComponentProblem as unknown:
            if unknown.status == 404:
                raise unknown_saga from None
            raise
        _show_choreography(choreography, console)


def _participants(row: ChoreographyRow) -> str:
    return ", ".join(f"{p.name} {p.state}" for p in row.participants)


def _show_one(saga: SagaDetail, console: RunnerConsole) -> None:
    console.message(f"saga {saga.id} ({saga.type}): {saga.status}")
    if saga.step is not None:
        console.message(f"at step: {saga.step} (attempts so far: {saga.attempts})")
    if saga.failure:
        console.message(f"failure: {saga.failure}")
    console.message(f"created {_when(saga.created_at)}, updated {_when(saga.updated_at)}")
    if saga.next_attempt_at is not None:
        console.message(f"next attempt: {_when(saga.next_attempt_at)}")
    if saga.owner is not None:
        console.message(f"held by {saga.owner} until {_when(saga.lease_expires_at)}")
    if saga.data:
        console.message("data: " + ", ".join(f"{k}={v}" for k, v in sorted(saga.data.items())))
    if saga.steps:
        console.table(
            ["step", "state", "attempts", "compensation attempts"],
            [
                [
                    step.name,
                    step.state,
                    str(step.attempts),
                    str(step.compensation_attempts) if step.has_compensation else NOTHING,
                ]
                for step in saga.steps
            ],
            right_aligned=["attempts", "compensation attempts"],
            unbroken=["step", "state"],
        )
    if not saga.history:
        console.message("no attempt recorded yet")
        return
    console.table(
        ["at (UTC)", "step", "phase", "outcome", "attempt", "error"],
        [
            [
                _cell_time(entry.at),
                entry.step,
                entry.phase,
                entry.outcome,
                str(entry.attempt),
                entry.error or "",
            ]
            for entry in saga.history
        ],
        right_aligned=["attempt"],
        unbroken=["step", "phase", "outcome", "attempt"],
    )


def _show_choreographies(rows: list[ChoreographyRow], console: RunnerConsole) -> None:
    """Nothing when there is none: a system without choreographies shows only its sagas."""
    if not rows:
        return
    console.message("choreographies (reconstructed from their events by correlation id):")
    console.table(
        ["id", "type", "status", "participants", "updated (UTC)"],
        [
            [row.id, row.type, row.status, _participants(row), _cell_time(row.updated_at)]
            for row in rows
        ],
        unbroken=["id", "type", "status"],
    )


def _show_choreography(choreography: ChoreographyDetail, console: RunnerConsole) -> None:
    console.message(f"choreography {choreography.id} ({choreography.type}): {choreography.status}")
    console.message(
        f"about {choreography.subject}; started {_when(choreography.started_at)}, "
        f"updated {_when(choreography.updated_at)}"
    )
    console.table(
        ["participant", "state", "answered with", "answered (UTC)", "deadline (UTC)"],
        [
            [
                p.name,
                p.state,
                p.answered_by or NOTHING,
                _cell_time(p.answered_at) if p.answered_at else NOTHING,
                _cell_time(p.deadline) if p.deadline else NOTHING,
            ]
            for p in choreography.participants
        ],
        unbroken=["participant", "state"],
    )
    console.table(
        ["at (UTC)", "event", "source"],
        [[_cell_time(e.at), e.type, e.source] for e in choreography.events],
        unbroken=["event", "source"],
    )
