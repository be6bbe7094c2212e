"""The ``strangler migrate billing verify`` command → the monolith's data-migration API, through
the runner's ``MigrationSide``: how many records of each entity the monolith holds, read with
the operator token.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pact import Pact, match
from strangler_runner.migration_client import MigrationSide

from tests.contracts.pacts import pact_dir


@pytest.fixture(scope="module")
def monolith_url() -> Iterator[str]:
    pact = Pact("strangler-cli", "legacy-monolith").with_specification("V4")
    (
        pact.upon_receiving("the record counts of each billing entity")
        .given("one customer is registered at the monolith")
        .with_request("GET", "/internal/billing/counts")
        .with_header("Authorization", match.regex("Bearer operator", regex=r"^Bearer \S+$"))
        .will_respond_with(200)
        .with_body({"counts": {"customers": match.int(1)}}, content_type="application/json")
    )
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


def test_the_cli_reads_the_monoliths_counts(monolith_url: str) -> None:
    with MigrationSide(
        "the monolith", monolith_url, "billing", headers={"Authorization": "Bearer operator"}
    ) as monolith:
        counts = monolith.counts()
    assert counts["customers"] == 1
