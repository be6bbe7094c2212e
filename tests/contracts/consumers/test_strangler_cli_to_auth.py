"""The ``strangler`` command → auth's operator API, with the operator token:

- ``strangler auth keys`` and ``strangler auth rotate-keys`` (the runner's ``auth_keys``):
  every published key with its state and dates, and a rotation naming the key that signs
  from then on, the next one and the retired ones — the key that signs and the next one are
  always among them (the one has signed since a moment, the other not yet; neither retires);
- ``strangler migrate auth …`` (the runner's ``MigrationSide`` on auth's side, declared as
  every side's are in migration_sides.py): auth's users as ``status`` and ``verify`` read
  them, and a backfill step, which auth takes by reading the real monolith's export behind it.

Replayed against a real auth process by tests/contracts/providers/test_auth.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pact import Pact, match
from pydantic import SecretStr
from rich.console import Console
from strangler_runner.auth_keys import rotate_keys, show_keys
from strangler_runner.console import RunnerConsole
from strangler_runner.settings import RunnerSettings

from tests.contracts.consumers.migration_sides import (
    TOKEN,
    MovingRecord,
    declare_receiving_side,
    declare_records_side,
    drives_the_backfill,
    operator_bearer,
    reads_the_records_side,
)
from tests.contracts.consumers.probes import declare_readiness, runner_finds_it_ready
from tests.contracts.pacts import pact_dir

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
WHEN = match.regex("2026-12-06T10:00:00Z", regex=RFC3339)
A_KEY = "auth has a signing key"
USER = MovingRecord("auth", "users", "42", "email", "ada@example.com")
SIGNING = {
    "kid": match.str("kid-b"),
    "state": "current",
    "created_at": WHEN,
    "activated_at": WHEN,
    "retire_after": None,
}
NEXT = {
    "kid": match.str("kid-c"),
    "state": "next",
    "created_at": WHEN,
    "activated_at": None,
    "retire_after": None,
}


@pytest.fixture(scope="module")
def auth_url() -> Iterator[str]:
    pact = Pact("strangler-cli", "auth").with_specification("V4")
    keys = match.array_containing([SIGNING, NEXT])
    (
        pact.upon_receiving("the published keys, as `strangler auth keys` lists them")
        .given(A_KEY)
        .with_request("GET", "/internal/auth/keys")
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body(keys, content_type="application/json")
    )
    (
        pact.upon_receiving("a rotation of the signing keys")
        .given(A_KEY)
        .with_request("POST", "/internal/auth/keys/rotate")
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body(
            {
                "signing": match.str("kid-b"),
                "next": match.str("kid-c"),
                "retired": match.each_like("kid-a", min=1),
                "keys": keys,
            },
            content_type="application/json",
        )
    )
    declare_records_side(pact, USER, "one user is known to auth")
    declare_receiving_side(pact, USER, "one customer is registered at the monolith behind auth")
    declare_readiness(pact)
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


def _command(auth_url: str, state_dir: Path) -> tuple[RunnerSettings, RunnerConsole, io.StringIO]:
    settings = RunnerSettings(
        state_dir=state_dir, auth_url=auth_url, gateway_admin_token=SecretStr(TOKEN)
    )
    out = io.StringIO()
    console = RunnerConsole(
        out=Console(file=out, width=200, highlight=False),
        err=Console(file=io.StringIO(), width=200, highlight=False),
    )
    return settings, console, out


def test_the_cli_lists_auths_keys(auth_url: str, tmp_path: Path) -> None:
    settings, console, out = _command(auth_url, tmp_path)
    assert show_keys(settings, console) == 0
    listed = out.getvalue()
    assert "kid-b" in listed
    assert "kid-c" in listed


def test_the_cli_rotates_auths_keys(auth_url: str, tmp_path: Path) -> None:
    settings, console, out = _command(auth_url, tmp_path)
    assert rotate_keys(settings, console) == 0
    assert "auth signs with kid-b from now on" in out.getvalue()
    assert "published as next: kid-c" in out.getvalue()


def test_the_cli_reads_auths_records(auth_url: str) -> None:
    reads_the_records_side("auth", auth_url, USER)


def test_the_cli_drives_auths_backfill(auth_url: str) -> None:
    drives_the_backfill("auth", auth_url, USER)


async def test_the_cli_finds_it_ready(auth_url: str) -> None:
    await runner_finds_it_ready(auth_url)
