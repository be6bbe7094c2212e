"""Moving accounts in the running system, the way an operator drives it: `strangler migrate auth
backfill`, people changing their accounts on both sides, then `verify` (no drift) and
`status`.

Someone registers at the monolith (through the gateway) and renames themselves at auth;
someone else registers at auth and changes their password at the monolith: each logs in on
both sides with what they last chose. The system is shared with other tests, whose account
changes cross between the sides by events while this one runs: `verify` is asked until the
sides agree.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

AGREE_WITHIN_SECONDS = 60.0
FIRST, SECOND = "first-password", "second-password"


def _email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:10]}@example.com"


def _register(client: httpx.Client, email: str) -> str:
    answer = client.post("/api/users", json={"email": email, "password": FIRST, "name": "Mover"})
    assert answer.status_code == 201, answer.text
    user_id: str = answer.json()["id"]
    return user_id


def _login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def _bearer(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    answer = _login(client, email, password)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _until(holds: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + AGREE_WITHIN_SECONDS
    while not holds():
        assert time.monotonic() < deadline, f"not within {AGREE_WITHIN_SECONDS:g} s: {what}"
        time.sleep(0.5)


def test_accounts_changed_on_both_sides_log_in_on_either_and_verify_finds_no_drift(
    system: RunningSystem,
) -> None:
    backfilled = system.strangler("migrate", "auth", "backfill", timeout=120)
    assert backfilled.returncode == 0, backfilled.stdout + backfilled.stderr
    assert "backfill finished" in backfilled.stdout

    renamer, changer = _email("renamer"), _email("changer")
    with (
        httpx.Client(base_url=system.gateway_url, timeout=30) as gateway,
        httpx.Client(base_url=system.monolith_url, timeout=30) as monolith,
        httpx.Client(base_url=system.auth_url, timeout=30) as auth,
    ):
        _register(gateway, renamer)  # /api/users is the monolith's until its flag moves
        _register(auth, changer)
        _until(lambda: _login(auth, renamer, FIRST).status_code == 200, "auth has the renamer")
        _until(lambda: _login(monolith, changer, FIRST).status_code == 200, "the monolith too")

        renamed = auth.patch(
            "/api/users/me", json={"name": "Renamed at auth"}, headers=_bearer(auth, renamer, FIRST)
        )
        assert renamed.status_code == 200, renamed.text
        changed = monolith.post(
            "/api/users/me/password",
            json={"current_password": FIRST, "new_password": SECOND},
            headers=_bearer(monolith, changer, FIRST),
        )
        assert changed.status_code == 204, changed.text

        _until(lambda: _login(auth, changer, SECOND).status_code == 200, "the new password")
        assert _login(auth, changer, FIRST).status_code == 401

        def monolith_name() -> str:
            me = monolith.get("/api/users/me", headers=_bearer(monolith, renamer, FIRST))
            assert me.status_code == 200, me.text
            name: str = me.json()["name"]
            return name

        _until(lambda: monolith_name() == "Renamed at auth", "the monolith has the new name")

    verified = system.strangler("migrate", "auth", "verify")
    deadline = time.monotonic() + AGREE_WITHIN_SECONDS
    while verified.returncode == 1 and time.monotonic() < deadline:
        time.sleep(1)
        verified = system.strangler("migrate", "auth", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "no drift" in verified.stdout
    assert "one account per e-mail address" in verified.stdout

    status = system.strangler("migrate", "auth", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {
        cells[0]: cells[1:]
        for line in status.stdout.splitlines()
        if len(cells := [c.strip() for c in line.strip("│┃ ").split("│")]) == 5
    }
    legacy, new, backfill, _ = rows["users"]
    assert legacy == new, status.stdout
    assert backfill.startswith("finished"), status.stdout
    assert "sync monolith → auth: running" in status.stdout
    assert "sync auth → monolith: running" in status.stdout
