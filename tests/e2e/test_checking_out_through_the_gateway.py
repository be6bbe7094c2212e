"""The checkout saga in the running system: a user registered through the gateway checks out
through the gateway, whose ``billing-checkout`` route is born new (only billing has a
checkout), and `strangler sagas` shows the saga as an operator sees it.

Billing learns of the user by events, a moment after the monolith answered: until then the
checkout is refused with ``customer-unknown`` and retried under the same Idempotency-Key.
"""

from __future__ import annotations

import subprocess
import uuid
from typing import Any

import httpx
import pytest

from tests.support.polling import eventually
from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
REGISTRATION_REACHES_BILLING_WITHIN_SECONDS = 60.0
CHECKOUT_ENDS_WITHIN_SECONDS = 60.0
ENDED = {"completed", "compensated", "compensation_failed"}


async def _signed_up(gateway: httpx.AsyncClient) -> dict[str, str]:
    email = f"checkout-e2e-{uuid.uuid4().hex[:10]}@example.com"
    registered = await gateway.post(
        "/api/users", json={"email": email, "password": "correct-horse", "name": "Cleo"}
    )
    assert registered.status_code == 201, registered.text
    login = await gateway.post(
        "/api/auth/login", json={"email": email, "password": "correct-horse"}
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _checked_out(
    gateway: httpx.AsyncClient, auth: dict[str, str], plan_id: str, card_number: str
) -> dict[str, Any]:
    """Check out through the gateway, once billing knows the user; then wait for the end."""
    key = f"e2e-checkout-{uuid.uuid4().hex}"
    answers: list[httpx.Response] = []

    async def accepted() -> bool:
        answer = await gateway.post(
            "/api/billing/checkout",
            json={"plan_id": plan_id, "card_number": card_number},
            headers={**auth, "Idempotency-Key": key},
        )
        answers.append(answer)
        return answer.status_code == 202

    await eventually(
        accepted, "billing knows the user", REGISTRATION_REACHES_BILLING_WITHIN_SECONDS, every=0.2
    )
    refusals = {answer.json()["type"].rsplit("/", 1)[-1] for answer in answers[:-1]}
    assert refusals <= {"customer-unknown"}
    started = answers[-1]
    assert started.headers["x-strangler-target"] == "new"
    assert started.headers["x-strangler-reason"] == "route:born-new"
    location = started.headers["location"]
    seen: list[dict[str, Any]] = []

    async def ended() -> bool:
        answer = await gateway.get(location, headers=auth)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        return seen[-1]["status"] in ENDED

    await eventually(ended, "the checkout ends", CHECKOUT_ENDS_WITHIN_SECONDS, every=0.1)
    return seen[-1]


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _rows(table: str) -> list[list[str]]:
    """The cells of each body row of a table `strangler` printed."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in table.splitlines()
        if line.startswith("│")
    ]


async def test_a_checkout_through_the_gateway_completes_and_strangler_sagas_shows_it(
    system: RunningSystem,
) -> None:
    async with (
        httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway,
        httpx.AsyncClient(base_url=system.billing_url, timeout=30) as billing,
    ):
        auth = await _signed_up(gateway)
        checkout = await _checked_out(gateway, auth, "pro", GOOD_CARD)
        # Billing itself, not through the gateway: its `billing` route is still on legacy.
        subscription = await billing.get(
            f"/api/billing/subscriptions/{checkout['subscription_id']}", headers=auth
        )

    assert checkout["status"] == "completed", checkout
    assert [step["state"] for step in checkout["steps"]] == ["succeeded"] * 4
    assert subscription.json()["status"] == "active"

    listed = _rows(_ok(system.strangler("sagas")))
    assert [checkout["id"], "checkout", "completed", "—", "0"] in [row[:5] for row in listed]

    shown = _ok(system.strangler("sagas", checkout["id"]))
    assert f"saga {checkout['id']} (checkout): completed" in shown
    history = [row for row in _rows(shown) if len(row) == 6]
    assert [(row[1], row[2], row[3]) for row in history] == [
        ("start-subscription", "action", "succeeded"),
        ("issue-invoice", "action", "succeeded"),
        ("charge-card", "action", "succeeded"),
        ("activate-subscription", "action", "succeeded"),
    ]
    assert "4242424242424242" not in shown


async def test_a_declined_card_shows_its_compensations_in_strangler_sagas(
    system: RunningSystem,
) -> None:
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway:
        auth = await _signed_up(gateway)
        checkout = await _checked_out(gateway, auth, "starter", DECLINED_CARD)

    assert checkout["status"] == "compensated", checkout

    shown = _ok(system.strangler("sagas", checkout["id"]))
    assert "failure: charge-card: card declined (generic_decline)" in shown
    history = [row for row in _rows(shown) if len(row) == 6]
    assert [(row[1], row[2], row[3]) for row in history][2:] == [
        ("charge-card", "action", "failed"),
        ("issue-invoice", "compensation", "succeeded"),
        ("start-subscription", "compensation", "succeeded"),
    ]
    compensated = _rows(_ok(system.strangler("sagas", "--status", "compensated")))
    assert checkout["id"] in [row[0] for row in compensated]


def test_strangler_sagas_names_an_unknown_saga_in_one_line(system: RunningSystem) -> None:
    result = system.strangler("sagas", "no-such-saga")

    assert result.returncode == 1
    assert result.stderr.strip() == "error: Saga not found: No saga with id 'no-such-saga'."
    assert "Traceback" not in result.stderr
