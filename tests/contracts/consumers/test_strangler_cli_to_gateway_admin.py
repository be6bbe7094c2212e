"""The ``strangler`` command → the gateway's admin API (``/_strangler/…`` on its operator
listener), through the runner's ``GatewayAdmin``: the flags it shows and changes, and the
kill switch. What it reads is what ``FlagsView`` needs; keys the gateway adds are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pact import Pact, match
from strangler_runner.gateway_admin import GatewayAdmin

from tests.contracts.pacts import pact_dir

TOKEN = "operator-token"
FLAG = {
    "route": match.str("billing"),
    "prefix": match.str("/api/billing"),
    "mode": match.regex("legacy", regex=r"^(legacy|shadow|canary|new)$"),
    "percent": match.int(0),
}


def _flags_view(*, kill_switch: bool) -> dict[str, object]:
    return {"kill_switch": kill_switch, "flags": match.each_like(FLAG, min=1)}


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    pact = Pact("strangler-cli", "gateway-admin").with_specification("V4")
    bearer = match.regex(f"Bearer {TOKEN}", regex=r"^Bearer \S+$")
    (
        pact.upon_receiving("the flags, as `strangler flags` shows them")
        .given("the gateway routes with its default flags")
        .with_request("GET", "/_strangler/flags")
        .with_header("Authorization", bearer)
        .with_header("X-Strangler-Actor", match.str("ops"))
        .will_respond_with(200)
        .with_body(_flags_view(kill_switch=False), content_type="application/json")
    )
    (
        pact.upon_receiving("the kill switch turned on, with a reason")
        .given("the gateway routes with its default flags")
        .with_request("POST", "/_strangler/kill-switch")
        .with_header("Authorization", bearer)
        .with_header("X-Strangler-Actor", match.str("ops"))
        .with_body({"state": "on", "reason": match.str("errors at billing")}, "application/json")
        .will_respond_with(200)
        .with_body(_flags_view(kill_switch=True), content_type="application/json")
    )
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


def test_the_cli_reads_the_flags(gateway_url: str) -> None:
    with GatewayAdmin(gateway_url, TOKEN, "ops") as admin:
        view = admin.flags()
    assert view.kill_switch is False
    assert view.flag("billing") is not None


def test_the_cli_turns_the_kill_switch_on(gateway_url: str) -> None:
    with GatewayAdmin(gateway_url, TOKEN, "ops") as admin:
        view = admin.set_kill_switch(True, "errors at billing")
    assert view.kill_switch is True
