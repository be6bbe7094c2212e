"""`strangler flags / kill-switch / diffs` against a gateway played by ``httpx.MockTransport``:
what is sent, how answers are shown, and how every failure becomes one line."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from local_processes import start_ticks
from rich.console import Console
from strangler_flags import Mode, RouteFlag
from strangler_runner.console import RunnerConsole
from strangler_runner.flag_control import (
    FlagRequest,
    InvalidFlagRequest,
    admin_token,
    gateway_url,
    list_flags,
    run_against_gateway,
    set_flag,
    show_diffs,
    show_history,
)
from strangler_runner.gateway_admin import (
    FlagView,
    GatewayAdmin,
    GatewayAdminError,
    GatewayNotAnswering,
    GatewayProblem,
)
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import ComponentRecord, RunRecord, StateDir

URL = "http://gateway.test:8080"
Handler = Callable[[httpx.Request], httpx.Response]


def _flag(
    route: str, mode: str = "legacy", percent: int = 0, **targeting: list[str]
) -> dict[str, Any]:
    return {
        "route": route,
        "prefix": f"/api/{route}",
        "mode": mode,
        "percent": percent,
        "force_new_user_ids": targeting.get("users", []),
        "force_new_email_domains": targeting.get("domains", []),
    }


def _view(*flags: dict[str, Any], kill_switch: bool = False) -> dict[str, Any]:
    return {"kill_switch": kill_switch, "flags": list(flags)}


def _admin(handler: Handler) -> GatewayAdmin:
    return GatewayAdmin(URL, "secret-token", "cli:tester", transport=httpx.MockTransport(handler))


def _problem(status: int, title: str, detail: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": "about:blank", "title": title, "status": status, "detail": detail},
        headers={"content-type": "application/problem+json"},
    )


class Captured:
    def __init__(self) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.console = RunnerConsole(
            out=Console(file=self.out, width=200, highlight=False),
            err=Console(file=self.err, width=200, highlight=False),
        )


# Where the gateway is, and the token it accepts.


@pytest.fixture(autouse=True)
def _no_gateway_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRANGLER_GATEWAY_URL", raising=False)
    monkeypatch.delenv("STRANGLER_GATEWAY_ADMIN_TOKEN", raising=False)


def test_the_gateway_is_the_one_the_running_system_started_here(tmp_path: Path) -> None:
    StateDir(tmp_path).write_run_record(
        RunRecord(
            runner_pid=os.getpid(),
            runner_start_ticks=start_ticks(os.getpid()),
            started_at=datetime.now(UTC),
            phase="running",
            components=[
                ComponentRecord(
                    name="gateway",
                    pid=os.getpid(),
                    urls={
                        "public entry": "http://127.0.0.1:18080",
                        "operator": "http://127.0.0.1:18081",
                    },
                    health_url="http://127.0.0.1:18080/health/ready",
                )
            ],
        )
    )

    assert gateway_url(RunnerSettings(state_dir=tmp_path)) == "http://127.0.0.1:18081"


def test_without_a_running_system_the_gateway_is_on_its_configured_port(tmp_path: Path) -> None:
    settings = RunnerSettings(state_dir=tmp_path, host="127.0.0.2", gateway_admin_port=18082)

    assert gateway_url(settings) == "http://127.0.0.2:18082"


def test_a_gateway_url_setting_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRANGLER_GATEWAY_URL", "https://gateway.example")

    assert gateway_url(RunnerSettings(state_dir=tmp_path)) == "https://gateway.example"


def test_the_token_is_the_one_strangler_up_stored_unless_one_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = StateDir(tmp_path)
    state.create()
    stored = state.load_or_create_secrets().admin_token

    from_state = admin_token(RunnerSettings(state_dir=tmp_path))
    monkeypatch.setenv("STRANGLER_GATEWAY_ADMIN_TOKEN", "from-the-environment")
    from_environment = admin_token(RunnerSettings(state_dir=tmp_path))

    assert from_state == stored
    assert from_environment == "from-the-environment"


# The admin client: what goes out, and what comes back as an error.


def test_every_call_carries_the_admin_token_and_names_the_actor() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_view(_flag("billing")))

    with _admin(handler) as admin:
        admin.flags()

    assert str(seen[0].url) == f"{URL}/_strangler/flags"
    assert seen[0].headers["authorization"] == "Bearer secret-token"
    assert seen[0].headers["x-strangler-actor"] == "cli:tester"


def test_setting_a_flag_sends_the_whole_flag_document_and_the_reason() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_view(_flag("billing", "canary", 30)))

    with _admin(handler) as admin:
        admin.set_flag("billing", RouteFlag(Mode.CANARY, 30, frozenset({"42"})), "ramp up")

    assert (seen[0].method, seen[0].url.path) == ("PUT", "/_strangler/flags/billing")
    assert json.loads(seen[0].content) == {
        "mode": "canary",
        "percent": 30,
        "force_new_user_ids": ["42"],
        "force_new_email_domains": [],
        "reason": "ramp up",
    }


def test_a_gateway_that_does_not_answer_is_named_with_a_hint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with _admin(handler) as admin, pytest.raises(GatewayNotAnswering) as failure:
        admin.flags()

    assert str(failure.value) == (
        f"the gateway at {URL} is not answering; is `strangler up` running?"
    )


def test_a_problem_document_becomes_its_title_and_detail() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _problem(404, "Unknown route", "No route is named 'payroll'.")

    with _admin(handler) as admin, pytest.raises(GatewayProblem) as failure:
        admin.diffs("payroll")

    assert failure.value.status == 404
    assert str(failure.value) == "Unknown route: No route is named 'payroll'."


def test_an_error_without_a_problem_document_is_shown_by_its_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    with _admin(handler) as admin, pytest.raises(GatewayAdminError) as failure:
        admin.flags()

    assert str(failure.value) == f"the gateway at {URL} answered 502 Bad Gateway"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>hello</html>"),
        httpx.Response(200, json={"something": "else"}),
    ],
)
def test_an_answer_that_is_not_the_admin_api_is_reported_as_such(answer: httpx.Response) -> None:
    with _admin(lambda request: answer) as admin, pytest.raises(GatewayAdminError) as failure:
        admin.flags()

    assert str(failure.value).startswith(f"{URL} answered, but not as the gateway's admin API")


def test_a_gateway_that_stops_midway_is_reported_in_one_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with _admin(handler) as admin, pytest.raises(GatewayAdminError) as failure:
        admin.history(None, 5)

    assert (
        str(failure.value) == f"the gateway at {URL} did not answer properly: ReadTimeout timed out"
    )


# The commands: one line on failure, tables and summaries on success.


def test_a_failure_is_one_line_on_stderr_and_exit_code_1(tmp_path: Path) -> None:
    captured = Captured()
    settings = RunnerSettings(state_dir=tmp_path, gateway_port=1)

    def refusing(admin: GatewayAdmin, console: RunnerConsole) -> int:
        raise GatewayProblem(401, "Admin token required", "Send Authorization: Bearer <token>.")

    code = run_against_gateway(settings, captured.console, URL, "wrong", refusing)

    assert code == 1
    lines = captured.err.getvalue().splitlines()
    assert lines[0] == "error: Admin token required: Send Authorization: Bearer <token>."
    assert "STRANGLER_GATEWAY_ADMIN_TOKEN" in lines[1]
    assert captured.out.getvalue() == ""


def test_without_any_token_the_command_says_where_one_comes_from(tmp_path: Path) -> None:
    captured = Captured()

    code = run_against_gateway(
        RunnerSettings(state_dir=tmp_path), captured.console, URL, None, list_flags
    )

    assert code == 1
    assert "no admin token" in captured.err.getvalue()
    assert "--token" in captured.err.getvalue()


def test_the_flag_table_shows_mode_percent_targeting_and_the_kill_switch() -> None:
    view = _view(
        _flag("auth"),
        _flag("billing", "canary", 30, users=["42", "7"], domains=["acme.test"]),
        kill_switch=True,
    )
    captured = Captured()

    with _admin(lambda request: httpx.Response(200, json=view)) as admin:
        list_flags(admin, captured.console)

    out = captured.out.getvalue()
    billing = next(line for line in out.splitlines() if "billing" in line)
    assert "/api/billing" in billing
    assert "canary" in billing
    assert "30 %" in billing
    assert "42, 7" in billing
    assert "acme.test" in billing
    assert "kill switch: ON" in out


def test_setting_a_mode_keeps_the_targeting_already_there() -> None:
    current = _flag("billing", "shadow", users=["42"], domains=["acme.test"])
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            sent.append(json.loads(request.content))
            return httpx.Response(200, json=_view({**current, **sent[-1]}))
        return httpx.Response(200, json=_view(current))

    captured = Captured()
    request = FlagRequest("canary", 30, [], [], clear_targeting=False)
    with _admin(handler) as admin:
        code = set_flag(admin, captured.console, "billing", request, "ramp")

    assert code == 0
    assert sent == [
        {
            "mode": "canary",
            "percent": 30,
            "force_new_user_ids": ["42"],
            "force_new_email_domains": ["acme.test"],
            "reason": "ramp",
        }
    ]
    assert "30 %" in captured.out.getvalue()


def test_given_targeting_replaces_its_list_and_clearing_empties_both() -> None:
    current = FlagView.model_validate(_flag("billing", users=["42"], domains=["acme.test"]))

    replaced = FlagRequest("new", None, ["7"], [], clear_targeting=False).applied_to(current)
    cleared = FlagRequest("new", None, [], [], clear_targeting=True).applied_to(current)

    assert replaced.force_new_user_ids == {"7"}
    assert replaced.force_new_email_domains == {"acme.test"}
    assert (cleared.force_new_user_ids, cleared.force_new_email_domains) == (set(), set())


@pytest.mark.parametrize(
    ("mode", "percent", "message"),
    [
        ("sideways", None, "'sideways' is not a mode; choose one of legacy, shadow, canary, new"),
        ("canary", None, "canary needs --percent"),
        ("canary", 130, "--percent must be within 0..100, not 130"),
        ("new", 30, "--percent applies to canary only"),
    ],
)
def test_a_flag_that_cannot_be_is_refused_before_anything_is_sent(
    mode: str, percent: int | None, message: str
) -> None:
    with pytest.raises(InvalidFlagRequest, match=message.replace(".", r"\.")):
        FlagRequest(mode, percent, [], [], clear_targeting=False)


def test_history_shows_when_who_what_changed_and_why() -> None:
    entries = [
        {
            "at": "2026-03-01T09:30:00Z",
            "who": "cli:erin",
            "subject": "billing",
            "old": {"mode": "legacy", "percent": 0},
            "new": {"mode": "canary", "percent": 30, "force_new_user_ids": ["42"]},
            "reason": "first users",
        },
        {
            "at": "2026-03-01T09:00:00Z",
            "who": "gateway:auto-rollback",
            "subject": "kill-switch",
            "old": {"on": False},
            "new": {"on": True},
            "reason": "",
        },
    ]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=entries)

    captured = Captured()
    with _admin(handler) as admin:
        show_history(admin, captured.console, "billing", 5)

    assert dict(seen[0].url.params) == {"route": "billing", "limit": "5"}
    out = captured.out.getvalue()
    first = next(line for line in out.splitlines() if "cli:erin" in line)
    assert "2026-03-01T09:30:00Z" in first
    assert "legacy → canary 30 %, users 42" in first
    assert "first users" in first
    assert "off → on" in out


def test_diffs_show_the_figures_noise_and_latest_field_differences() -> None:
    figures = {
        "route": "billing",
        "mirrored": 12,
        "compared": 10,
        "differing": 2,
        "noisy": 3,
        "dropped": 0,
        "failed": 2,
        "diff_rate": 0.2,
        "a_figure_added_later": 99,
        "recent": [
            {"at": "2026-03-01T09:30:00Z", "method": "GET", "target": "/api/billing/plans",
             "fields": ["/0/price: 900 != 1000", "status: 200 != 404"], "more": "ignored"},
            {"at": "2026-03-01T09:29:00Z", "method": "GET", "target": "/api/billing/plans/x",
             "fields": ["status: 404 != 500"]},
        ],
    }  # fmt: skip
    captured = Captured()

    with _admin(lambda request: httpx.Response(200, json=figures)) as admin:
        show_diffs(admin, captured.console, "billing", limit=1)

    lines = captured.out.getvalue().splitlines()
    assert lines[0].startswith("billing: mirrored 12, compared 10, differing 2 (diff rate 20.0%)")
    assert "noisy 3" in lines[0]
    assert "dropped 0, failed 2" in lines[0]
    assert "2026-03-01T09:30:00Z  GET /api/billing/plans" in lines
    assert "    /0/price: 900 != 1000" in lines
    assert not any("/api/billing/plans/x" in line for line in lines)


def test_diffs_from_a_gateway_without_noise_figures_leave_noise_out() -> None:
    figures = {
        "route": "billing", "mirrored": 0, "compared": 0, "differing": 0, "dropped": 0,
        "failed": 0, "diff_rate": 0.0, "recent": [],
    }  # fmt: skip
    captured = Captured()

    with _admin(lambda request: httpx.Response(200, json=figures)) as admin:
        show_diffs(admin, captured.console, "billing", limit=10)

    out = captured.out.getvalue()
    assert "noisy" not in out
    assert "no differences recorded" in out
    assert "strangler flags set billing shadow" in captured.err.getvalue()
