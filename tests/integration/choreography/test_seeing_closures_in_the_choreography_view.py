"""An account closure, as operators see it: reconstructed from the events of every
participant by correlation id, each participant's state beside it, and a participant that
never answers shown as stuck once its deadline has passed.

Billing answers for real (it is the participant under test and keeps the view); the
answers of notifications and auth are published here as those services publish them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from billing_service.adapters.orm import choreography_events
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts import AccountClosed, AccountClosureRequested, FarewellSentAndDataErased

from tests.integration.billing_service.conftest import known_customer
from tests.integration.choreography.closures import publish
from tests.integration.choreography.conftest import BillingFactory
from tests.support.operator import OPERATOR_HEADERS
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

WAIT_SECONDS = 45.0
SHORT_DEADLINE_SECONDS = 1.0


async def _closure(client: httpx.AsyncClient, closure_id: str) -> dict[str, Any] | None:
    response = await client.get(f"/internal/choreographies/{closure_id}", headers=OPERATOR_HEADERS)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _wait_for(
    client: httpx.AsyncClient, closure_id: str, status: str, states: dict[str, str]
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def stands_so() -> bool:
        nonlocal seen
        seen = await _closure(client, closure_id) or {}
        now = {p["name"]: p["state"] for p in seen.get("participants", [])}
        return seen.get("status") == status and now == states

    await eventually(stands_so, f"closure {closure_id} {status} with {states}", WAIT_SECONDS)
    return seen


async def _request_closure(app: FastAPI, producer: AIOKafkaProducer) -> tuple[str, str]:
    customer = await known_customer(app, "leaving")
    closure_id = f"closure-{uuid.uuid4()}"
    request = AccountClosureRequested(
        closure_id=closure_id,
        user_id=customer.id,
        email=customer.email,
        display_name="Leaving",
        requested_at=datetime.now(UTC),
    )
    await publish(producer, request, "/auth", closure_id)
    return closure_id, customer.id


async def test_a_closure_is_followed_participant_by_participant_until_it_completes(
    billing: tuple[FastAPI, httpx.AsyncClient], producer: AIOKafkaProducer, engine: AsyncEngine
) -> None:
    app, client = billing
    closure_id, user_id = await _request_closure(app, producer)

    await _wait_for(
        client,
        closure_id,
        "in_progress",
        {"billing": "done", "notifications": "pending", "accounts": "waiting"},
    )
    now = datetime.now(UTC)
    farewell = FarewellSentAndDataErased(
        closure_id=closure_id,
        user_id=user_id,
        farewell_message_id=f"<{closure_id}@test>",
        erased_records=3,
        erased_at=now,
    )
    await publish(producer, farewell, "/notifications", closure_id)
    await _wait_for(
        client,
        closure_id,
        "in_progress",
        {"billing": "done", "notifications": "done", "accounts": "pending"},
    )
    closed = AccountClosed(closure_id=closure_id, user_id=user_id, closed_at=now)
    await publish(producer, closed, "/auth", closure_id)
    done = await _wait_for(
        client,
        closure_id,
        "completed",
        {"billing": "done", "notifications": "done", "accounts": "done"},
    )

    assert [event["type"] for event in done["events"]] == [
        "accounts.account-closure-requested",
        "billing.billing-closed-for-account",
        "notifications.farewell-sent-and-data-erased",
        "accounts.account-closed",
    ]
    assert [event["source"] for event in done["events"]] == [
        "/auth",
        "/billing",
        "/notifications",
        "/auth",
    ]
    listed = await client.get("/internal/choreographies", headers=OPERATOR_HEADERS)
    row = next(item for item in listed.json()["items"] if item["id"] == closure_id)
    assert (row["type"], row["status"], row["subject"]) == ("account-closure", "completed", user_id)
    async with engine.connect() as connection:
        kept = (await connection.execute(select(choreography_events.c.data))).scalars().all()
    assert all("email" not in data and "display_name" not in data for data in kept)


async def test_a_participant_that_never_answers_shows_the_closure_as_stuck_after_its_deadline(
    start_billing: BillingFactory, producer: AIOKafkaProducer
) -> None:
    async with start_billing(closure_participant_deadline_seconds=SHORT_DEADLINE_SECONDS) as (
        app,
        client,
    ):
        closure_id, _ = await _request_closure(app, producer)

        stuck = await _wait_for(
            client,
            closure_id,
            "stuck",
            {"billing": "done", "notifications": "stuck", "accounts": "waiting"},
        )

    notifications = next(p for p in stuck["participants"] if p["name"] == "notifications")
    assert datetime.fromisoformat(notifications["deadline"]) < datetime.now(UTC)


async def test_an_unknown_closure_is_a_problem_document(
    billing: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = billing

    response = await client.get(
        "/internal/choreographies/no-such-closure", headers=OPERATOR_HEADERS
    )

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/choreography-not-found")
