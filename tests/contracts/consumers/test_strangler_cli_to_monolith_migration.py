"""The ``strangler migrate billing|auth|notifications status | backfill | verify`` command →
the monolith's data-migration API, through the runner's ``MigrationSide`` with the operator
token: for each capability the monolith hands over, its record counts, each record's stamp
and checksum, the records ``verify`` found differing, and the sync's status (the monolith's
syncs are off until `strangler up` turns them on: a ``sync-not-running`` problem). Declared
as every side's are (migration_sides.py); the records the requests name are those the
provider state's export answers first.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pact import Pact

from tests.contracts.consumers.migration_sides import (
    MovingRecord,
    declare_records_side,
    reads_the_records_side,
)
from tests.contracts.consumers.probes import declare_readiness, runner_finds_it_ready
from tests.contracts.pacts import pact_dir

A_CUSTOMER = "one customer is registered at the monolith"
RECORDS = [
    MovingRecord("billing", "customers", "42", "email", "ada@example.com"),
    MovingRecord("auth", "users", "42", "email", "ada@example.com"),
    MovingRecord("notifications", "notifications", "7", "recipient", "ada@example.com"),
]


@pytest.fixture(scope="module")
def monolith_url() -> Iterator[str]:
    pact = Pact("strangler-cli", "legacy-monolith").with_specification("V4")
    for record in RECORDS:
        declare_records_side(pact, record, A_CUSTOMER)
    declare_readiness(pact)
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.capability)
def test_the_cli_reads_the_monoliths_side(monolith_url: str, record: MovingRecord) -> None:
    reads_the_records_side("the monolith", monolith_url, record)


async def test_the_cli_finds_it_ready(monolith_url: str) -> None:
    await runner_finds_it_ready(monolith_url)
