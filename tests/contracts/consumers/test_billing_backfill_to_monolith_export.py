"""Billing's backfill → the monolith's export (``GET /internal/billing/export/{entity}``),
through strangler_migration's ``HttpExportSource``: a page of customers in id order, each with
its stamp and the fields billing copies (``BILLING_FIELDS["customers"]``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pact import Pact, match
from strangler_migration import HttpExportSource

from tests.contracts.pacts import pact_dir

EXPORT = "/internal/billing/export"


@pytest.fixture(scope="module")
def monolith_url() -> Iterator[str]:
    pact = Pact("billing-backfill", "legacy-monolith").with_specification("V4")
    (
        pact.upon_receiving("the first page of customers to copy")
        .given("one customer is registered at the monolith")
        .with_request("GET", f"{EXPORT}/customers")
        .with_query_parameter("limit", match.regex("100", regex=r"^\d+$"))
        .with_header("Authorization", match.regex("Bearer operator", regex=r"^Bearer \S+$"))
        .will_respond_with(200)
        .with_body(
            {
                "entity": "customers",
                "records": match.each_like(
                    {
                        "id": match.str("42"),
                        "version": match.int(1),
                        "origin": match.str("legacy"),
                        "data": {
                            "email": match.str("ada@example.com"),
                            "display_name": match.str("Ada"),
                            "registered_at": match.str("2026-01-01T00:00:00Z"),
                        },
                    },
                    min=1,
                ),
                "next_cursor": None,
                "total": match.int(1),
            },
            content_type="application/json",
        )
    )
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


async def test_the_backfill_reads_a_page_of_customers(monolith_url: str) -> None:
    source = HttpExportSource(
        f"{monolith_url}{EXPORT.removesuffix('/export')}",
        headers={"Authorization": "Bearer operator"},
    )
    try:
        page = await source.page("customers", None, 100)
    finally:
        await source.aclose()
    assert page.next_cursor is None
    assert page.records[0].data["email"] == "ada@example.com"
