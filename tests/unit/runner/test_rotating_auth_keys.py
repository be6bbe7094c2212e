"""`strangler auth rotate-keys | keys` against auth's key endpoints (an httpx MockTransport):
what a person reads, and every failure as one line with exit code 1."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from rich.console import Console
from strangler_runner.auth_keys import rotate_keys, show_keys
from strangler_runner.console import RunnerConsole
from strangler_runner.settings import RunnerSettings

OPERATOR = "operator-token-for-unit-tests"
KEY = {"created_at": "2026-12-06T10:00:00Z", "activated_at": None, "retire_after": None}


@pytest.fixture
def settings(tmp_path: Path) -> RunnerSettings:
    return RunnerSettings(
        state_dir=tmp_path / "state",
        auth_url="http://auth.test",
        gateway_admin_token=SecretStr(OPERATOR),
    )


def _console() -> tuple[RunnerConsole, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    console = RunnerConsole(
        out=Console(file=out, width=200, highlight=False),
        err=Console(file=err, width=200, highlight=False),
    )
    return console, out, err


def test_a_rotation_names_the_key_that_signs_and_lists_the_keys(
    settings: RunnerSettings,
) -> None:
    seen: list[httpx.Request] = []

    def auth(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={
            "signing": "kid-b", "next": "kid-c", "retired": ["kid-a"],
            "keys": [
                {**KEY, "kid": "kid-a", "state": "retired", "retire_after": "2026-12-06T10:15:05Z"},
                {**KEY, "kid": "kid-b", "state": "current", "activated_at": "2026-12-06T10:00:00Z"},
                {**KEY, "kid": "kid-c", "state": "next"},
            ],
        })  # fmt: skip

    console, out, _ = _console()
    code = rotate_keys(settings, console, transport=httpx.MockTransport(auth))

    assert code == 0
    assert seen[0].method == "POST"
    assert seen[0].url.path == "/internal/auth/keys/rotate"
    assert seen[0].headers["authorization"] == f"Bearer {OPERATOR}"
    printed = out.getvalue()
    assert "auth signs with kid-b from now on" in printed
    assert "published as next: kid-c" in printed
    assert "2026-12-06 10:15:05" in printed


def test_a_refusal_is_one_line_and_exit_code_1(settings: RunnerSettings) -> None:
    def auth(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403,
            content=json.dumps({
                "type": "https://strangler-fig.dev/problems/operator-token-wrong",
                "title": "Operator credential refused", "status": 403,
                "detail": "The bearer token is not the operator token.",
            }),
            headers={"content-type": "application/problem+json"},
        )  # fmt: skip

    console, _, err = _console()
    code = show_keys(settings, console, transport=httpx.MockTransport(auth))

    assert code == 1
    assert "Operator credential refused: The bearer token is not the operator token." in (
        err.getvalue()
    )


def test_something_else_at_the_url_is_named_as_not_auth(settings: RunnerSettings) -> None:
    console, _, err = _console()
    code = show_keys(
        settings, console, transport=httpx.MockTransport(lambda _: httpx.Response(200, json={}))
    )

    assert code == 1
    assert "not as auth's key endpoints does" in err.getvalue()
