"""`strangler sagas [id]` against a billing service played by ``httpx.MockTransport``: what is
asked, how sagas are shown, and how every failure becomes one line and exit code 1."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
from rich.console import Console
from strangler_runner.console import RunnerConsole
from strangler_runner.sagas import BillingSagas, describe_sagas

URL = "http://billing.test:8003"
SAGA_ID = "5f0c2d1e-0000-4000-8000-000000000001"
Handler = Callable[[httpx.Request], httpx.Response]


class Captured:
    def __init__(self) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.console = RunnerConsole(
            Console(file=self.out, width=200, color_system=None),
            Console(file=self.err, width=200, color_system=None),
        )


def _billing(handler: Handler) -> BillingSagas:
    return BillingSagas(URL, transport=httpx.MockTransport(handler))


def _row(**overrides: Any) -> dict[str, Any]:
    return {
        "id": SAGA_ID,
        "type": "checkout",
        "status": "compensated",
        "step": None,
        "attempts": 0,
        "failure": "charge-card: card declined (generic_decline)",
        "created_at": "2030-01-01T12:00:00Z",
        "updated_at": "2030-01-01T12:00:03Z",
        **overrides,
    }


CLOSURE_ID = "closure-0000-4000-8000-000000000002"


def _choreography(events: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": CLOSURE_ID,
        "type": "account-closure",
        "status": "stuck",
        "subject": "user-1",
        "started_at": "2030-01-01T12:00:00Z",
        "updated_at": "2030-01-01T12:00:01Z",
        "participants": [
            {
                "name": "billing",
                "state": "done",
                "answered_by": "billing.billing-closed-for-account",
                "answered_at": "2030-01-01T12:00:01Z",
            },
            {"name": "notifications", "state": "stuck", "deadline": "2030-01-01T12:05:00Z"},
            {"name": "auth", "state": "waiting"},
        ],
    }
    if events:
        shown["events"] = [
            {
                "id": "e1",
                "type": "accounts.account-closure-requested",
                "source": "/auth",
                "at": "2030-01-01T12:00:00Z",
            },
            {
                "id": "e2",
                "type": "billing.billing-closed-for-account",
                "source": "/billing",
                "at": "2030-01-01T12:00:01Z",
            },
        ]
    return shown


def _detail() -> dict[str, Any]:
    return {
        **_row(),
        "data": {"plan_id": "pro", "card_number": "[redacted]"},
        "next_attempt_at": None,
        "owner": None,
        "lease_expires_at": None,
        "steps": [
            {
                "name": "start-subscription",
                "state": "compensated",
                "attempts": 1,
                "compensation_attempts": 1,
                "has_compensation": True,
            },
            {
                "name": "charge-card",
                "state": "failed",
                "attempts": 1,
                "compensation_attempts": 0,
                "has_compensation": True,
            },
            {
                "name": "activate-subscription",
                "state": "not_run",
                "attempts": 0,
                "compensation_attempts": 0,
                "has_compensation": False,
            },
        ],
        "history": [
            {
                "at": "2030-01-01T12:00:01Z",
                "step": "charge-card",
                "phase": "action",
                "outcome": "failed",
                "attempt": 1,
                "error": "card declined (generic_decline)",
            },
            {
                "at": "2030-01-01T12:00:02Z",
                "step": "start-subscription",
                "phase": "compensation",
                "outcome": "succeeded",
                "attempt": 1,
                "error": None,
            },
        ],
    }


def test_the_list_asks_for_the_latest_sagas_and_shows_one_row_each() -> None:
    asked: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        if request.url.path == "/internal/choreographies":
            return httpx.Response(200, json={"items": [_choreography()]})
        return httpx.Response(200, json={"items": [_row(), _row(id="other", status="running")]})

    captured = Captured()
    code = describe_sagas(_billing(handler), captured.console, None, "compensated", 5)

    assert code == 0
    assert [(url.path, dict(url.params)) for url in asked] == [
        ("/internal/sagas", {"limit": "5", "status": "compensated"}),
        ("/internal/choreographies", {"limit": "5"}),
    ]
    assert CLOSURE_ID not in captured.out.getvalue()  # a stuck closure is not compensated
    lines = captured.out.getvalue().splitlines()
    header = next(line for line in lines if "status" in line)
    assert all(word in header for word in ("id", "type", "status", "step", "attempts", "updated"))
    assert any(SAGA_ID in line and "compensated" in line for line in lines)
    assert any("other" in line and "running" in line for line in lines)


def test_the_list_shows_each_choreography_with_where_every_participant_stands() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/internal/choreographies":
            return httpx.Response(200, json={"items": [_choreography()]})
        return httpx.Response(200, json={"items": [_row()]})

    captured = Captured()
    code = describe_sagas(_billing(handler), captured.console, None, None, 20)

    assert code == 0
    lines = captured.out.getvalue().splitlines()
    assert any(SAGA_ID in line and "compensated" in line for line in lines)
    row = next(line for line in lines if CLOSURE_ID in line)
    assert "account-closure" in row
    assert "stuck" in row
    assert "billing done, notifications stuck, auth waiting" in row


def test_a_choreography_s_id_shows_each_participant_and_every_event() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/internal/choreographies/{CLOSURE_ID}":
            return httpx.Response(200, json=_choreography(events=True))
        return httpx.Response(
            404,
            json={"title": "Saga not found", "status": 404, "detail": "No saga."},
            headers={"content-type": "application/problem+json"},
        )

    captured = Captured()
    code = describe_sagas(_billing(handler), captured.console, CLOSURE_ID, None, 20)

    output = captured.out.getvalue()
    assert code == 0
    assert f"choreography {CLOSURE_ID} (account-closure): stuck" in output
    rows = [line.split("│")[1:-1] for line in output.splitlines() if line.startswith("│")]
    cells = [[cell.strip() for cell in row] for row in rows]
    assert cells == [
        ["billing", "done", "billing.billing-closed-for-account", "2030-01-01 12:00:01", "—"],
        ["notifications", "stuck", "—", "—", "2030-01-01 12:05:00"],
        ["auth", "waiting", "—", "—", "—"],
        ["2030-01-01 12:00:00", "accounts.account-closure-requested", "/auth"],
        ["2030-01-01 12:00:01", "billing.billing-closed-for-account", "/billing"],
    ]


def test_one_saga_is_shown_with_its_steps_and_every_attempt() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/internal/sagas/{SAGA_ID}"
        return httpx.Response(200, json=_detail())

    captured = Captured()
    code = describe_sagas(_billing(handler), captured.console, SAGA_ID, None, 20)

    output = captured.out.getvalue()
    assert code == 0
    assert f"saga {SAGA_ID} (checkout): compensated" in output
    assert "failure: charge-card: card declined (generic_decline)" in output
    assert "card_number=[redacted]" in output
    rows = [line.split("│")[1:-1] for line in output.splitlines() if line.startswith("│")]
    cells = [[cell.strip() for cell in row] for row in rows]
    assert cells == [
        ["start-subscription", "compensated", "1", "1"],
        ["charge-card", "failed", "1", "0"],
        ["activate-subscription", "not_run", "0", "—"],
        ["2030-01-01 12:00:01", "charge-card", "action", "failed", "1",
         "card declined (generic_decline)"],
        ["2030-01-01 12:00:02", "start-subscription", "compensation", "succeeded", "1", ""],
    ]  # fmt: skip


def test_billing_not_answering_is_one_line_and_exit_1() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    captured = Captured()
    code = describe_sagas(_billing(handler), captured.console, None, None, 20)

    assert code == 1
    assert captured.err.getvalue().strip() == (
        f"error: billing at {URL} is not answering; is `strangler up` running?"
    )
    assert captured.out.getvalue() == ""


def test_an_unknown_saga_is_billing_s_problem_in_one_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            404,
            json={"title": "Saga not found", "status": 404, "detail": "No saga with id 'x'."},
            headers={"content-type": "application/problem+json"},
        )

    captured = Captured()
    code = describe_sagas(_billing(handler), captured.console, "x", None, 20)

    assert code == 1
    assert captured.err.getvalue().strip() == "error: Saga not found: No saga with id 'x'."


def test_an_answer_that_is_not_billing_s_is_named_as_such() -> None:
    captured = Captured()
    code = describe_sagas(
        _billing(lambda request: httpx.Response(200, json={"hello": "world"})),
        captured.console,
        None,
        None,
        20,
    )

    assert code == 1
    assert "not as billing's saga endpoints do" in captured.err.getvalue()
