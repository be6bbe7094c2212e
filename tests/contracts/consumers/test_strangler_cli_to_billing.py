"""The ``strangler`` command → billing's operator API, with the operator token:

- ``strangler sagas [id]`` (the runner's ``BillingSagas``): the recent sagas, and one checkout
  saga in full — its id is the one the provider state's checkout got (a provider-state
  injected value, ``${checkout_id}``);
- ``strangler migrate billing …`` (the runner's ``MigrationSide`` on billing's side): its
  record counts, each record's stamp and checksum and the records that differ (``verify``),
  the backfill's progress, and the sync's status when billing does not run the
  sync (a ``sync-not-running`` problem, which the command shows as "not syncing").

What each answer carries is what ``strangler_sagas.wire`` and ``strangler_migration`` read;
keys billing adds are ignored. Replayed against a real billing process by
tests/contracts/providers/test_billing.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pact import Pact, generate, match
from pact.match.matcher import GenericMatcher
from strangler_migration.wire import SYNC_NOT_RUNNING
from strangler_runner.migration_client import MigrationSide
from strangler_runner.sagas import BillingSagas

from tests.contracts.pacts import pact_dir

TOKEN = "operator"
CHECKOUT_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
CUSTOMER_ID = "42"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
WHEN = match.regex("2026-01-01T00:00:00Z", regex=RFC3339)
A_CHECKOUT = "a customer has started a checkout at billing"
A_CUSTOMER = "one customer is known to billing"
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
PROBLEM = "application/problem+json"


def _bearer() -> GenericMatcher[str]:
    """The operator's bearer: an example here, this run's token in the verification (a
    provider-state injected value)."""
    return GenericMatcher(
        "regex",
        f"Bearer {TOKEN}",
        regex=r"^Bearer \S+$",
        generator=generate.provider_state("Bearer ${operator_token}"),
    )


@pytest.fixture(scope="module")
def billing_url() -> Iterator[str]:
    pact = Pact("strangler-cli", "billing").with_specification("V4")
    (
        pact.upon_receiving("the recent sagas, as `strangler sagas` lists them")
        .given(A_CHECKOUT)
        .with_request("GET", "/internal/sagas")
        .with_query_parameter("limit", "20")
        .with_header("Authorization", _bearer())
        .will_respond_with(200)
        .with_body({"items": match.each_like(SAGA_ROW, min=1)}, content_type="application/json")
    )
    (
        pact.upon_receiving("one checkout saga in full, as `strangler sagas ID` shows it")
        .given(A_CHECKOUT)
        .with_request(
            "GET",
            GenericMatcher(
                "regex",
                f"/internal/sagas/{CHECKOUT_ID}",
                regex=r"^/internal/sagas/[^/]+$",
                generator=generate.provider_state("/internal/sagas/${checkout_id}"),
            ),
        )
        .with_header("Authorization", _bearer())
        .will_respond_with(200)
        .with_body(
            {**SAGA_ROW, "data": match.type({}), "steps": match.each_like(STEP, min=1)},
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("the record counts of each billing entity")
        .given(A_CUSTOMER)
        .with_request("GET", "/internal/billing/counts")
        .with_header("Authorization", _bearer())
        .will_respond_with(200)
        .with_body({"counts": {"customers": match.int(1)}}, content_type="application/json")
    )
    (
        pact.upon_receiving("the backfill's progress, entity by entity")
        .given(A_CUSTOMER)
        .with_request("GET", "/internal/migration/billing")
        .with_header("Authorization", _bearer())
        .will_respond_with(200)
        .with_body(
            {
                "backfill": {
                    "migration": "billing",
                    "entities": match.each_like(
                        {
                            "entity": match.str("customers"),
                            "scanned": match.int(0),
                            "written": match.int(0),
                            "finished": match.bool(False),
                        },
                        min=1,
                    ),
                },
                "sync": None,
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("every customer's stamp and checksum, as `verify` compares them")
        .given(A_CUSTOMER)
        .with_request("GET", "/internal/billing/checksums/customers")
        .with_header("Authorization", _bearer())
        .will_respond_with(200)
        .with_body(
            {
                "entity": "customers",
                "count": match.int(1),
                # The state's customer, by the id billing was told (42).
                "records": {
                    CUSTOMER_ID: {
                        "version": match.int(1),
                        "origin": match.str("legacy-monolith"),
                        "checksum": match.regex("0" * 64, regex=r"^[0-9a-f]{64}$"),
                    }
                },
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("the records `verify` found differing, field by field")
        .given(A_CUSTOMER)
        .with_request("POST", "/internal/billing/records/customers")
        .with_header("Authorization", _bearer())
        .with_body({"ids": [CUSTOMER_ID]}, content_type="application/json")
        .will_respond_with(200)
        .with_body(
            {
                "entity": "customers",
                "records": match.each_like(
                    {
                        "id": CUSTOMER_ID,
                        "version": match.int(1),
                        "origin": match.str("legacy-monolith"),
                        "data": {"email": match.str("ada@example.com")},
                    },
                    min=1,
                ),
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("the sync's status from a billing that does not run the sync")
        .given(A_CUSTOMER)
        .with_request("GET", "/internal/billing/sync")
        .with_header("Authorization", _bearer())
        .will_respond_with(404)
        .with_body(
            {
                # The command knows this answer by its type: exactly this URI.
                "type": SYNC_NOT_RUNNING.uri,
                "title": match.str("Sync not running"),
                "status": 404,
            },
            content_type=PROBLEM,
        )
    )
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


def _sagas(url: str) -> BillingSagas:
    return BillingSagas(url, headers={"Authorization": f"Bearer {TOKEN}"})


def _migration(url: str) -> MigrationSide:
    return MigrationSide("billing", url, "billing", headers={"Authorization": f"Bearer {TOKEN}"})


def test_the_cli_lists_the_recent_sagas(billing_url: str) -> None:
    with _sagas(billing_url) as billing:
        rows = billing.recent(None, 20)
    assert [(row.id, row.type) for row in rows] == [(CHECKOUT_ID, "checkout")]


def test_the_cli_shows_one_saga(billing_url: str) -> None:
    with _sagas(billing_url) as billing:
        saga = billing.saga(CHECKOUT_ID)
    assert saga.type == "checkout"
    assert [step.name for step in saga.steps] == ["start-subscription"]


def test_the_cli_reads_billings_counts(billing_url: str) -> None:
    with _migration(billing_url) as billing:
        assert billing.counts()["customers"] == 1


def test_the_cli_reads_billings_checksums(billing_url: str) -> None:
    with _migration(billing_url) as billing:
        checksums = billing.checksums("customers")
    assert (checksums.count, list(checksums.records)) == (1, [CUSTOMER_ID])


def test_the_cli_reads_the_records_that_differ(billing_url: str) -> None:
    with _migration(billing_url) as billing:
        found = billing.records("customers", [CUSTOMER_ID])
    assert found[CUSTOMER_ID].data["email"] == "ada@example.com"


def test_the_cli_reads_the_backfills_progress(billing_url: str) -> None:
    with _migration(billing_url) as billing:
        status = billing.migration_status()
    assert [entity.entity for entity in status.backfill.entities] == ["customers"]
    assert status.sync is None


def test_the_cli_knows_a_billing_without_the_sync(billing_url: str) -> None:
    with _migration(billing_url) as billing:
        assert billing.sync() is None
