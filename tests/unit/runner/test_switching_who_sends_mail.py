"""`strangler flags set mail new` and `strangler flags list` with the side-effect flag, against a
gateway played by ``httpx.MockTransport``."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
from rich.console import Console
from strangler_runner.console import RunnerConsole
from strangler_runner.flag_control import FlagRequest, list_flags, set_flag
from strangler_runner.gateway_admin import GatewayAdmin

URL = "http://gateway.test:8081"


def _mail(mode: str, users: list[str] | None = None) -> dict[str, Any]:
    return {
        "name": "mail",
        "mode": mode,
        "legacy": "the monolith sends each e-mail inline",
        "new": "the notifications service sends each e-mail from its event",
        "force_new_user_ids": users or [],
        "force_new_email_domains": [],
    }


def _view(mail: dict[str, Any]) -> dict[str, Any]:
    billing = {
        "route": "billing",
        "prefix": "/api/billing",
        "mode": "legacy",
        "percent": 0,
        "force_new_user_ids": [],
        "force_new_email_domains": [],
    }
    return {"kill_switch": False, "flags": [billing], "side_effects": [mail]}


def _console() -> tuple[RunnerConsole, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False)
    return RunnerConsole(out=console, err=Console(file=io.StringIO())), out


def test_setting_mail_to_new_keeps_its_targeting_and_shows_who_sends_now() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            assert request.url.path == "/_strangler/flags/mail"
            sent.append(json.loads(request.content))
            return httpx.Response(200, json=_view(_mail("new", users=["42"])))
        return httpx.Response(200, json=_view(_mail("legacy", users=["42"])))

    console, out = _console()
    request = FlagRequest("new", None, [], [], clear_targeting=False)
    with GatewayAdmin(URL, "token", "cli:tester", transport=httpx.MockTransport(handler)) as admin:
        code = set_flag(admin, console, "mail", request, "cut over")

    assert code == 0
    assert sent == [
        {
            "mode": "new",
            "percent": 0,
            "force_new_user_ids": ["42"],
            "force_new_email_domains": [],
            "reason": "cut over",
        }
    ]
    shown = out.getvalue()
    assert "the notifications service sends each e-mail from its event" in shown
    assert "/api/billing" not in shown


def test_the_flag_list_shows_mail_beside_the_routes() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_view(_mail("legacy")))

    console, out = _console()
    with GatewayAdmin(URL, "token", "cli:tester", transport=httpx.MockTransport(handler)) as admin:
        list_flags(admin, console)

    shown = out.getvalue()
    assert "/api/billing" in shown
    assert "the monolith sends each e-mail inline" in shown
    assert "kill switch: off" in shown
