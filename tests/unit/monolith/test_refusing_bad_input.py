"""Every bad request is answered with a problem document and changes nothing at all."""

from __future__ import annotations

import httpx
import pytest

from tests.support.monolith_api import Subscriber, assert_problem
from tests.support.monolith_bad_requests import BAD_REQUESTS, send
from tests.support.monolith_database import Snapshot


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
async def test_a_bad_request_is_a_problem_and_changes_nothing(
    client: httpx.AsyncClient, snapshot: Snapshot, subscriber: Subscriber, name: str
) -> None:
    case = BAD_REQUESTS[name]
    before = await snapshot()

    response = await send(client, case, subscriber)

    problem = assert_problem(response, case.status, case.problem)
    if case.problem == "validation-failed":
        assert problem["errors"]
        assert all({"pointer", "message", "code"} <= set(error) for error in problem["errors"])
    assert set(case.pointers) <= {error["pointer"] for error in problem.get("errors", [])}
    assert await snapshot() == before
