"""Bad requests leave PostgreSQL exactly as it was, as they leave SQLite."""

from __future__ import annotations

import httpx
import pytest

from tests.support.monolith_api import assert_problem, sign_up_and_subscribe
from tests.support.monolith_bad_requests import BAD_REQUESTS, send
from tests.support.monolith_database import Snapshot

pytestmark = pytest.mark.integration

ON_POSTGRES = [
    "register-malformed-json",
    "register-email-is-a-number",
    "register-duplicate-email-in-capitals",
    "subscribe-while-subscribed",
    "pay-card-fails-luhn",
    "pay-unknown-invoice",
    "refund-unpaid-invoice",
    "refund-amount-is-a-string",
    "pay-oversize-streamed",
    "list-invoices-offset-past-64-bits",
    "register-name-with-nul",
    "get-invoice-id-with-nul",
    "list-invoices-query-with-nul",
]


@pytest.mark.parametrize("name", ON_POSTGRES)
async def test_a_bad_request_is_a_problem_and_changes_nothing(
    client: httpx.AsyncClient, snapshot: Snapshot, name: str
) -> None:
    case = BAD_REQUESTS[name]
    subscriber = await sign_up_and_subscribe(client)
    before = await snapshot()

    response = await send(client, case, subscriber)

    assert_problem(response, case.status, case.problem)
    assert await snapshot() == before
