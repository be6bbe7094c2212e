"""Closing an account in the running system: a choreography across the monolith, billing
and notifications that nobody orchestrates, followed with `strangler sagas`.

The user closes the account through the gateway (``DELETE /api/users/me``: the monolith
plays the accounts side while ``/api/users`` is on legacy, the auth service once it is on
new; the erase reaches the other side through the accounts sync). Billing cancels the
subscription and
refunds the unused part of the period through the payment simulator; notifications mails
the farewell, then erases what it holds; the monolith erases the credentials and the
profile. A refund the card's issuer declines pauses the closure and tells the user, who
resumes it (billing tries the refund again; this card's issuer declines it again); a
participant that is stopped shows the closure as stuck once its deadline has passed, and
the closure completes when it is back.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.polling import eventually
from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

GOOD_CARD = "4242 4242 4242 4242"
REFUSES_REFUNDS = "4000 0000 0000 5126"
PASSWORD = "correct-horse"
WAIT_SECONDS = 90.0
SHORT_DEADLINE_SECONDS = 6


class Account:
    def __init__(self, email: str, token: str) -> None:
        self.email = email
        self.auth = {"Authorization": f"Bearer {token}"}


async def _signed_up(gateway: httpx.AsyncClient, who: str) -> Account:
    email = f"{who}-{uuid.uuid4().hex[:10]}@example.com"
    registered = await gateway.post(
        "/api/users", json={"email": email, "password": PASSWORD, "name": who.capitalize()}
    )
    assert registered.status_code == 201, registered.text
    login = await gateway.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return Account(email, login.json()["access_token"])


async def _subscribed(gateway: httpx.AsyncClient, account: Account, card_number: str) -> None:
    """Check out the Pro plan through the gateway (billing), once billing knows the user."""
    key = f"e2e-closure-{uuid.uuid4().hex}"
    location: list[str] = []

    async def accepted() -> bool:
        answer = await gateway.post(
            "/api/billing/checkout",
            json={"plan_id": "pro", "card_number": card_number},
            headers={**account.auth, "Idempotency-Key": key},
        )
        if answer.status_code == 202:
            location.append(answer.headers["location"])
        return answer.status_code == 202

    await eventually(accepted, "billing knows the user", WAIT_SECONDS, every=0.2)

    async def active() -> bool:
        checkout = (await gateway.get(location[0], headers=account.auth)).json()
        assert checkout["status"] in ("running", "completed"), checkout
        return bool(checkout["status"] == "completed")

    await eventually(active, "the checkout completes", WAIT_SECONDS, every=0.2)


async def _close(gateway: httpx.AsyncClient, account: Account) -> str:
    asked = await gateway.delete("/api/users/me", headers=account.auth)
    assert asked.status_code == 202, asked.text
    closure_id: str = asked.json()["id"]
    return closure_id


def _view(system: RunningSystem) -> Callable[[str], Any]:
    headers = {"Authorization": f"Bearer {system.secrets()['admin_token']}"}

    async def closure(closure_id: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=system.billing_url, timeout=10) as billing:
            answer = await billing.get(f"/internal/choreographies/{closure_id}", headers=headers)
        return answer.json() if answer.status_code == 200 else {}

    return closure


async def _stands(
    system: RunningSystem, closure_id: str, status: str, states: dict[str, str]
) -> dict[str, Any]:
    view = _view(system)
    seen: dict[str, Any] = {}

    async def so() -> bool:
        nonlocal seen
        seen = await view(closure_id)
        participants = {p["name"]: p["state"] for p in seen.get("participants", [])}
        return seen.get("status") == status and participants == states

    await eventually(so, f"closure {closure_id}: {status}, {states}", WAIT_SECONDS, every=0.5)
    return seen


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _rows(table: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in table.splitlines()
        if line.startswith("│")
    ]


async def _mails_to(system: RunningSystem, address: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=system.mail_url, timeout=10) as mail:
        answer = await mail.get("/messages", params={"to": address, "limit": 50})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def _auth_login_is(system: RunningSystem, account: Account, status: int) -> bool:
    """Auth's copy of the account follows the monolith's (the accounts sync)."""
    async with httpx.AsyncClient(base_url=system.auth_url, timeout=30) as auth:
        answer = await auth.post(
            "/api/auth/login", json={"email": account.email, "password": PASSWORD}
        )
    return answer.status_code == status


EVERYONE_DONE = {"billing": "done", "notifications": "done", "accounts": "done"}


async def test_closing_an_account_refunds_says_farewell_erases_it_and_strangler_sagas_shows_it(
    system: RunningSystem,
) -> None:
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway:
        account = await _signed_up(gateway, "leaving")
        await _subscribed(gateway, account, GOOD_CARD)
        await eventually(
            lambda: _auth_login_is(system, account, 200), "auth has the account", WAIT_SECONDS
        )
        closure_id = await _close(gateway, account)
        await _stands(system, closure_id, "completed", EVERYONE_DONE)
        me = await gateway.get("/api/users/me", headers=account.auth)
        login = await gateway.post(
            "/api/auth/login", json={"email": account.email, "password": PASSWORD}
        )

    assert me.status_code == 401  # the account is gone: its token is refused
    assert login.status_code == 401

    await eventually(
        lambda: _auth_login_is(system, account, 401), "auth refuses it too", WAIT_SECONDS
    )
    subjects = [mail["subject"] for mail in await _mails_to(system, account.email)]
    assert "Your account is closed, Leaving" in subjects
    listed = _rows(_ok(system.strangler("sagas")))
    row = next(row for row in listed if row[0] == closure_id)
    assert row[1:3] == ["account-closure", "completed"]
    assert "billing done, notifications done, accounts done" in " ".join(row)
    shown = _ok(system.strangler("sagas", closure_id))
    assert f"choreography {closure_id} (account-closure): completed" in shown
    events = [row[1] for row in _rows(shown) if len(row) == 3]
    assert events == [
        "accounts.account-closure-requested",
        "billing.billing-closed-for-account",
        "notifications.farewell-sent-and-data-erased",
        "accounts.account-closed",
    ]
    async with httpx.AsyncClient(base_url=system.payment_simulator_url, timeout=10) as provider:
        charges = (await provider.get("/v1/charges", params={"limit": 100})).json()["items"]
    refunded = [c for c in charges if c["amount"] == 2900 and 0 < c["amount_refunded"] < 2900]
    assert refunded, "the unused part of the period went back to the card"


async def test_a_refund_the_issuer_declines_pauses_the_closure_and_tells_the_user(
    system: RunningSystem,
) -> None:
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway:
        account = await _signed_up(gateway, "paused")
        await _subscribed(gateway, account, REFUSES_REFUNDS)
        closure_id = await _close(gateway, account)
        paused = {"billing": "declined", "notifications": "waiting", "accounts": "waiting"}
        await _stands(system, closure_id, "paused", paused)

        async def told() -> bool:
            subjects = [mail["subject"] for mail in await _mails_to(system, account.email)]
            return "Closing your account is paused" in subjects

        await eventually(told, "the user was mailed that the closure is paused", WAIT_SECONDS)
        shown = await gateway.get("/api/users/me/closure", headers=account.auth)

    assert shown.status_code == 200, shown.text
    closure = shown.json()
    assert (closure["id"], closure["status"], closure["billing"]) == (
        closure_id,
        "paused",
        "declined",
    )
    assert "declined" in closure["declined_reason"]

    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway:
        resumed = await gateway.post("/api/users/me/closure/resume", headers=account.auth)
        assert resumed.status_code == 202, resumed.text
        assert (resumed.json()["id"], resumed.json()["attempt"]) == (closure_id, 2)

        async def told_again() -> bool:
            subjects = [mail["subject"] for mail in await _mails_to(system, account.email)]
            return subjects.count("Closing your account is paused") == 2

        await eventually(told_again, "billing tried again, and the user was told", WAIT_SECONDS)
        again = (await gateway.get("/api/users/me/closure", headers=account.auth)).json()
        assert (again["status"], again["billing"], again["attempt"]) == ("paused", "declined", 2)


async def _monolith_login_is(system: RunningSystem, account: Account, status: int) -> bool:
    """The monolith's copy of the account follows auth's (the accounts sync)."""
    async with httpx.AsyncClient(base_url=system.monolith_url, timeout=30) as monolith:
        answer = await monolith.post(
            "/api/auth/login", json={"email": account.email, "password": PASSWORD}
        )
    return answer.status_code == status


async def test_with_api_users_on_auth_auth_closes_the_account_and_the_monolith_follows(
    system: RunningSystem,
) -> None:
    _ok(system.strangler("flags", "set", "users", "new", "--reason", "e2e: accounts at auth"))
    _ok(system.strangler("flags", "set", "auth", "new", "--reason", "e2e: logins at auth"))
    try:
        async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway:
            account = await _signed_up(gateway, "ørjan")
            await _subscribed(gateway, account, GOOD_CARD)
            await eventually(
                lambda: _monolith_login_is(system, account, 200),
                "the monolith has the account",
                WAIT_SECONDS,
            )
            closure_id = await _close(gateway, account)
            await _stands(system, closure_id, "completed", EVERYONE_DONE)
            me = await gateway.get("/api/users/me", headers=account.auth)
    finally:
        _ok(system.strangler("flags", "set", "auth", "legacy", "--reason", "e2e: back"))
        _ok(system.strangler("flags", "set", "users", "legacy", "--reason", "e2e: back"))

    assert me.status_code == 401  # auth erased it: its token is refused
    assert not await _auth_login_is(system, account, 200)
    await eventually(
        lambda: _monolith_login_is(system, account, 401), "the monolith erased it too", WAIT_SECONDS
    )
    subjects = [mail["subject"] for mail in await _mails_to(system, account.email)]
    assert "Your account is closed, Ørjan" in subjects

    async def no_drift() -> bool:
        verified = system.strangler("migrate", "auth", "verify")
        return verified.returncode == 0 and "no drift" in verified.stdout

    await eventually(no_drift, "strangler migrate auth verify: no drift", WAIT_SECONDS, every=2)


async def test_a_participant_that_is_stopped_shows_the_closure_stuck_until_it_is_back(
    launch_system: Callable[[], RunningSystem], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLING_CLOSURE_PARTICIPANT_DEADLINE_SECONDS", str(SHORT_DEADLINE_SECONDS))
    system = launch_system()
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway:
        account = await _signed_up(gateway, "unheard")
        _ok(system.strangler("stop", "notifications"))
        closure_id = await _close(gateway, account)

        stuck = await _stands(
            system,
            closure_id,
            "stuck",
            {"billing": "done", "notifications": "stuck", "accounts": "waiting"},
        )
        shown = _ok(system.strangler("sagas", closure_id))
        _ok(system.strangler("start", "notifications"))
        await _stands(system, closure_id, "completed", EVERYONE_DONE)

    assert f"choreography {closure_id} (account-closure): stuck" in shown
    notifications = next(p for p in stuck["participants"] if p["name"] == "notifications")
    assert notifications["deadline"] is not None
    participants = [row[:2] for row in _rows(shown) if len(row) == 5]
    assert ["notifications", "stuck"] in participants
