"""The auth and notifications backfills → the monolith's exports, through strangler_migration's
``HttpExportSource`` as each service's bootstrap builds it (``{monolith}/internal/{capability}``,
the operator token): a page of records in id order, each with its stamp and the fields the
service copies — auth's users (``USER_FIELDS``: the credentials it takes over) and
notifications' mail log (``NOTIFICATION_FIELDS``). Verified against the real monolith by
tests/contracts/providers/test_legacy_monolith.py, with the customer its state registers.
"""

from __future__ import annotations

from typing import Any

import pytest
from pact import Pact, match
from strangler_migration import HttpExportSource

from tests.contracts.pacts import pact_dir

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
WHEN = match.regex("2026-01-01T00:00:00Z", regex=RFC3339)

USERS = {
    "email": match.str("ada@example.com"),
    "email_key": match.str("ada@example.com"),
    "display_name": match.str("Ada"),
    "password_hash": match.str("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"),
    "registered_at": WHEN,
}
NOTIFICATIONS = {
    "user_id": match.str("42"),
    "kind": match.str("welcome"),
    "recipient": match.str("ada@example.com"),
    "subject": match.str("Welcome"),
    "body": match.str("Hello Ada"),
    "status": match.str("sent"),
    "created_at": WHEN,
}
# consumer, capability, entity, the fields it copies (an example record's data).
BACKFILLS = [
    ("auth-backfill", "auth", "users", USERS),
    ("notifications-backfill", "notifications", "notifications", NOTIFICATIONS),
]


@pytest.mark.parametrize(("consumer", "capability", "entity", "data"), BACKFILLS)
async def test_the_backfill_reads_a_page_of_records(
    consumer: str, capability: str, entity: str, data: dict[str, Any]
) -> None:
    export = f"/internal/{capability}/export/{entity}"
    pact = Pact(consumer, "legacy-monolith").with_specification("V4")
    (
        pact.upon_receiving(f"the first page of {entity} to copy")
        .given("one customer is registered at the monolith")
        .with_request("GET", export)
        .with_query_parameter("limit", match.regex("100", regex=r"^\d+$"))
        .with_header("Authorization", match.regex("Bearer operator", regex=r"^Bearer \S+$"))
        .will_respond_with(200)
        .with_body(
            {
                "entity": entity,
                "records": match.each_like(
                    {
                        "id": match.str("42"),
                        "version": match.int(1),
                        "origin": match.str("legacy"),
                        "data": data,
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
        source = HttpExportSource(
            f"{mock.url}/internal/{capability}", headers={"Authorization": "Bearer operator"}
        )
        try:
            page = await source.page(entity, None, 100)
        finally:
            await source.aclose()
    pact.write_file(pact_dir(), overwrite=True)
    assert page.next_cursor is None
    assert set(page.records[0].data) == set(data)
