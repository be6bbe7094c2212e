"""The ``strangler`` command → the gateway's admin API (``/_strangler/…`` on its operator
listener), through the runner's ``GatewayAdmin``: the flags it shows (``strangler flags``),
a route's flag replaced as a whole (``strangler flags set``), the audit trail of changes
(``strangler flags history``), the kill switch, and a route's shadow figures (``strangler
diffs``). What it reads is what ``FlagsView``, ``AuditEntry`` and ``ShadowFigures`` need; keys
the gateway adds are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pact import Pact, match
from strangler_flags import Mode, RouteFlag
from strangler_runner.gateway_admin import GatewayAdmin

from tests.contracts.pacts import pact_dir

TOKEN = "operator-token"
DEFAULTS = "the gateway routes with its default flags"
CHANGED = "billing's flag has been changed at the gateway"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
CANARY_10 = RouteFlag(Mode.CANARY, 10, frozenset({"42"}), frozenset({"example.com"}))
FLAG_DOCUMENT = {
    "mode": match.regex("canary", regex=r"^(legacy|shadow|canary|new)$"),
    "percent": match.int(10),
}
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
    (
        pact.upon_receiving("billing's flag replaced: canary 10 % with its targeting, a reason")
        .given(DEFAULTS)
        .with_request("PUT", "/_strangler/flags/billing")
        .with_header("Authorization", bearer)
        .with_header("X-Strangler-Actor", match.str("ops"))
        .with_body(
            {
                "mode": "canary",
                "percent": 10,
                "force_new_user_ids": ["42"],
                "force_new_email_domains": ["example.com"],
                "reason": match.str("try billing on a few"),
            },
            "application/json",
        )
        .will_respond_with(200)
        .with_body(
            {
                "kill_switch": match.bool(False),
                "flags": match.array_containing(
                    [
                        {
                            **FLAG,
                            "route": "billing",
                            "mode": "canary",
                            "percent": 10,
                            "force_new_user_ids": ["42"],
                            "force_new_email_domains": ["example.com"],
                        }
                    ]
                ),
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("the changes to billing's flag, latest first")
        .given(CHANGED)
        .with_request("GET", "/_strangler/flags/history")
        .with_query_parameter("limit", "20")
        .with_query_parameter("route", "billing")
        .with_header("Authorization", bearer)
        .with_header("X-Strangler-Actor", match.str("ops"))
        .will_respond_with(200)
        .with_body(
            # Among them a change from one flag to another (a route's first change, from
            # the default the gateway started with, has no old document: null).
            match.array_containing(
                [
                    {
                        "at": match.regex("2026-12-06T10:00:00Z", regex=RFC3339),
                        "who": match.str("ops"),
                        "subject": "billing",
                        "old": match.type(FLAG_DOCUMENT),
                        "new": match.type(FLAG_DOCUMENT),
                        "reason": match.str("try billing on a few"),
                    }
                ]
            ),
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("billing's shadow figures, nothing mirrored yet")
        .given(DEFAULTS)
        .with_request("GET", "/_strangler/diffs/billing")
        .with_header("Authorization", bearer)
        .with_header("X-Strangler-Actor", match.str("ops"))
        .will_respond_with(200)
        .with_body(
            {
                "route": "billing",
                "mirrored": match.int(0),
                "compared": match.int(0),
                "differing": match.int(0),
                "noisy_fields": match.type([]),
                "dropped": match.int(0),
                "failed": match.int(0),
                "diff_rate": match.number(0.0),
                "recent": match.type([]),
            },
            content_type="application/json",
        )
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


def test_the_cli_replaces_a_routes_flag(gateway_url: str) -> None:
    with GatewayAdmin(gateway_url, TOKEN, "ops") as admin:
        view = admin.set_flag("billing", CANARY_10, "try billing on a few")
    billing = view.flag("billing")
    assert billing is not None
    assert (billing.mode, billing.force_new_user_ids) == ("canary", ["42"])


def test_the_cli_reads_a_routes_history(gateway_url: str) -> None:
    with GatewayAdmin(gateway_url, TOKEN, "ops") as admin:
        entries = admin.history("billing", 20)
    assert [(e.subject, e.reason) for e in entries] == [("billing", "try billing on a few")]


def test_the_cli_reads_a_routes_shadow_figures(gateway_url: str) -> None:
    with GatewayAdmin(gateway_url, TOKEN, "ops") as admin:
        figures = admin.diffs("billing")
    assert (figures.route, figures.mirrored, figures.recent) == ("billing", 0, [])
