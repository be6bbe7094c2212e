"""The ``strangler`` command → billing's operator API, with the operator token:

- ``strangler sagas [id]`` (the runner's ``BillingSagas``): the recent sagas, and one checkout
  saga in full — its id is the one the provider state's checkout got (a provider-state
  injected value, ``${checkout_id}``); the account closures billing watches, and one in full
  by its correlation id, which the command asks for once billing answers that no saga has
  that id (a 404 problem);
- ``strangler migrate billing …`` (the runner's ``MigrationSide`` on billing's side,
  declared as every side's are in migration_sides.py): its record counts, each record's stamp
  and checksum and the records that differ (``verify``), the sync's status when billing does
  not run the sync (a ``sync-not-running`` problem, which the command shows as "not
  syncing"), the backfill's progress, and a backfill step — which billing takes by reading
  the real monolith's export behind it.

What each answer carries is what ``strangler_sagas.wire`` and ``strangler_migration`` read;
keys billing adds are ignored. Replayed against a real billing process by
tests/contracts/providers/test_billing.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from pact import Pact, match
from rich.console import Console
from strangler_runner.console import RunnerConsole
from strangler_runner.sagas import BillingSagas, describe_sagas

from tests.contracts.consumers.migration_sides import (
    PROBLEM,
    MovingRecord,
    declare_receiving_side,
    declare_records_side,
    drives_the_backfill,
    operator_bearer,
    reads_the_records_side,
)
from tests.contracts.consumers.probes import declare_readiness, runner_finds_it_ready
from tests.contracts.consumers.state_values import path_from_state
from tests.contracts.pacts import pact_dir

TOKEN = "operator"
CHECKOUT_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
CUSTOMER_ID = "42"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
WHEN = match.regex("2026-01-01T00:00:00Z", regex=RFC3339)
A_CHECKOUT = "a customer has started a checkout at billing"
A_CUSTOMER = "one customer is known to billing"
A_CLOSURE = "an account closure has been requested"
CLOSURE_ID = "3f1c7a52-5b0e-4d7e-9b43-2b1f6a9c0d11"
AT_THE_MONOLITH = "one customer is registered at the monolith behind billing"
CUSTOMER = MovingRecord("billing", "customers", CUSTOMER_ID, "email", "ada@example.com")
SAGA_ROW = {
    "id": match.str(CHECKOUT_ID),
    "type": "checkout",
    "status": match.str("running"),
    "step": match.str("start-subscription"),
    "attempts": match.int(0),
    "created_at": WHEN,
    "updated_at": WHEN,
}
STEP = {
    "name": match.str("start-subscription"),
    "state": match.str("pending"),
    "attempts": match.int(0),
    "compensation_attempts": match.int(0),
}
PARTICIPANT = {"name": match.str("billing"), "state": match.str("due")}
CLOSURE_ROW = {
    "id": match.str(CLOSURE_ID),
    "type": "account-closure",
    "status": match.str("running"),
    "subject": match.str("42"),
    "started_at": WHEN,
    "updated_at": WHEN,
    "participants": match.each_like(PARTICIPANT, min=1),
}


@pytest.fixture(scope="module")
def billing_url() -> Iterator[str]:
    pact = Pact("strangler-cli", "billing").with_specification("V4")
    (
        pact.upon_receiving("the recent sagas, as `strangler sagas` lists them")
        .given(A_CHECKOUT)
        .with_request("GET", "/internal/sagas")
        .with_query_parameter("limit", "20")
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body({"items": match.each_like(SAGA_ROW, min=1)}, content_type="application/json")
    )
    (
        pact.upon_receiving("one checkout saga in full, as `strangler sagas ID` shows it")
        .given(A_CHECKOUT)
        .with_request(
            "GET",
            path_from_state("/internal/sagas", CHECKOUT_ID, "checkout_id"),
        )
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body(
            {**SAGA_ROW, "data": match.type({}), "steps": match.each_like(STEP, min=1)},
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("the account closures billing watches, as `strangler sagas` lists them")
        .given(A_CLOSURE)
        .with_request("GET", "/internal/choreographies")
        .with_query_parameter("limit", "20")
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body({"items": match.each_like(CLOSURE_ROW, min=1)}, content_type="application/json")
    )
    (
        pact.upon_receiving("a closure's correlation id asked for as a saga: no such saga")
        .given(A_CLOSURE)
        .with_request(
            "GET",
            path_from_state("/internal/sagas", CLOSURE_ID, "closure_id"),
        )
        .with_header("Authorization", operator_bearer())
        .will_respond_with(404)
        .with_body(
            {
                "type": match.str("https://strangler-fig.dev/problems/saga-not-found"),
                "title": match.str("Saga not found"),
                "status": 404,
            },
            content_type=PROBLEM,
        )
    )
    (
        pact.upon_receiving("one account closure in full, as `strangler sagas ID` shows it")
        .given(A_CLOSURE)
        .with_request("GET", path_from_state("/internal/choreographies", CLOSURE_ID, "closure_id"))
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body(
            {
                **CLOSURE_ROW,
                "events": match.each_like(
                    {
                        "id": match.str("evt-1"),
                        "type": match.str("accounts.account-closure-requested"),
                        "source": match.str("legacy-monolith"),
                        "at": WHEN,
                    },
                    min=1,
                ),
            },
            content_type="application/json",
        )
    )
    declare_records_side(pact, CUSTOMER, A_CUSTOMER)
    declare_receiving_side(pact, CUSTOMER, AT_THE_MONOLITH)
    declare_readiness(pact)
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


def _sagas(url: str) -> BillingSagas:
    return BillingSagas(url, headers={"Authorization": f"Bearer {TOKEN}"})


def test_the_cli_lists_the_recent_sagas(billing_url: str) -> None:
    with _sagas(billing_url) as billing:
        rows = billing.recent(None, 20)
    assert [(row.id, row.type) for row in rows] == [(CHECKOUT_ID, "checkout")]


def test_the_cli_shows_one_saga(billing_url: str) -> None:
    with _sagas(billing_url) as billing:
        saga = billing.saga(CHECKOUT_ID)
    assert saga.type == "checkout"
    assert [step.name for step in saga.steps] == ["start-subscription"]


def test_the_cli_lists_the_sagas_and_the_closures(billing_url: str) -> None:
    console, out = _console()
    with _sagas(billing_url) as billing:
        assert describe_sagas(billing, console, None, None, 20) == 0
    listed = out.getvalue()
    assert CHECKOUT_ID in listed
    assert CLOSURE_ID in listed


def test_the_cli_shows_an_account_closure_by_its_id(billing_url: str) -> None:
    console, out = _console()
    with _sagas(billing_url) as billing:
        assert describe_sagas(billing, console, CLOSURE_ID, None, 20) == 0
    shown = out.getvalue()
    assert f"choreography {CLOSURE_ID} (account-closure)" in shown
    assert "accounts.account-closure-requested" in shown


def _console() -> tuple[RunnerConsole, io.StringIO]:
    out = io.StringIO()
    console = RunnerConsole(
        out=Console(file=out, width=200, highlight=False),
        err=Console(file=io.StringIO(), width=200, highlight=False),
    )
    return console, out


def test_the_cli_reads_billings_records(billing_url: str) -> None:
    reads_the_records_side("billing", billing_url, CUSTOMER)


def test_the_cli_drives_billings_backfill(billing_url: str) -> None:
    drives_the_backfill("billing", billing_url, CUSTOMER)


async def test_the_cli_finds_it_ready(billing_url: str) -> None:
    await runner_finds_it_ready(billing_url)
