"""The session bridge, in the running system: users logged in on either side keep being
served, with the very token they hold, while `/api/auth` and `/api/users` move from the
monolith to the auth service and back — the way an operator moves them, with
`strangler flags set`.

Half of the users log in at the monolith (an HS256 token), half at the auth service (an
EdDSA token, its key in auth's JWKS). At every step — legacy, a 50 % canary, new, legacy
again — each of them reads their account (`GET /api/users/me`) and their subscriptions
(billing) through the gateway, which verifies every token at the edge, and reads billing
from the billing service directly. Nobody is logged out and nobody is mistaken for anyone;
their tokens with one character of the signature changed are refused everywhere, at every
step.

The system is shared by the session: both routes go back to legacy whatever happens.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import jwt
import pytest
from strangler_flags import bucket_of

from tests.support.polling import eventually
from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

USERS_PER_SIDE = 3
PASSWORD = "correct-horse-bridge"
CANARY_PERCENT = 50
ROUTES = ("auth", "users")
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("legacy", ()),
    ("canary", ("--percent", str(CANARY_PERCENT))),
    ("new", ()),
    ("legacy", ()),
)
FLIP_SECONDS = 15.0


@dataclass(frozen=True)
class Holder:
    """A user and the token they hold, from the side they logged in at."""

    id: str
    email: str
    logged_in_at: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def forged(self) -> dict[str, str]:
        """Their token with the signature's first character changed."""
        head, payload, signature = self.token.split(".")
        changed = ("B" if signature[0] == "A" else "A") + signature[1:]
        return {"Authorization": f"Bearer {head}.{payload}.{changed}"}

    def side_for(self, mode: str) -> str:
        if mode == "canary":
            return "new" if bucket_of(self.id) < CANARY_PERCENT else "legacy"
        return mode


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture
def auth_back_on_legacy(system: RunningSystem) -> Iterator[None]:
    """Whatever the test does, both routes end on legacy, as the other tests expect."""
    yield
    for route in ROUTES:
        system.strangler("flags", "set", route, "legacy", "--clear-targeting")


async def _register(gateway: httpx.AsyncClient, email: str) -> str:
    body = {"email": email, "password": PASSWORD, "name": "Bridge Walker"}
    answer = await gateway.post("/api/users", json=body)
    assert answer.status_code == 201, answer.text
    user_id: str = answer.json()["id"]
    return user_id


async def _log_in(client: httpx.AsyncClient, email: str) -> str:
    answer = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def _holders(
    system: RunningSystem, gateway: httpx.AsyncClient, auth: httpx.AsyncClient
) -> list[Holder]:
    """Users registered at the monolith, copied to auth, logged in on one side each."""
    emails = [f"bridge-{uuid.uuid4().hex[:10]}@example.com" for _ in range(2 * USERS_PER_SIDE)]
    ids = [await _register(gateway, email) for email in emails]
    _ok(system.strangler("migrate", "auth", "backfill", timeout=120))
    holders = []
    for number, (user_id, email) in enumerate(zip(ids, emails, strict=True)):
        at_auth = number % 2 == 1
        token = await _log_in(auth if at_auth else gateway, email)
        holders.append(Holder(user_id, email, "auth" if at_auth else "monolith", token))
    algorithms = {jwt.get_unverified_header(h.token)["alg"] for h in holders}
    assert algorithms == {"HS256", "EdDSA"}
    return holders


def _flip(system: RunningSystem, mode: str, extra: tuple[str, ...]) -> None:
    for route in ROUTES:
        listed = _ok(
            system.strangler(
                "flags", "set", route, mode, *extra, "--reason", "e2e: the session bridge"
            )
        )
        assert any(route in line and mode in line for line in listed.splitlines()), listed


async def test_every_user_is_served_with_the_token_they_hold_while_auth_moves_and_back(
    system: RunningSystem, auth_back_on_legacy: None
) -> None:
    async with (
        httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway,
        httpx.AsyncClient(base_url=system.auth_url, timeout=30) as auth,
        httpx.AsyncClient(base_url=system.billing_url, timeout=30) as billing,
    ):
        holders = await _holders(system, gateway, auth)
        served_by: dict[str, set[str]] = {}

        for mode, extra in STEPS:
            _flip(system, mode, extra)
            for holder in holders:
                expected = holder.side_for(mode)

                async def served_by_its_side(holder: Holder = holder, side: str = expected) -> bool:
                    answer = await gateway.get("/api/users/me", headers=holder.auth)
                    return answer.headers.get("x-strangler-target") == side

                await eventually(
                    served_by_its_side,
                    f"/api/users/me of {holder.email} served by {expected} in {mode}",
                    within=FLIP_SECONDS,
                )
                me = await gateway.get("/api/users/me", headers=holder.auth)
                assert me.status_code == 200, (mode, holder, me.text)
                assert (me.json()["id"], me.json()["email"]) == (holder.id, holder.email)
                served_by.setdefault(holder.logged_in_at, set()).add(
                    me.headers["x-strangler-target"]
                )

                subscriptions = await gateway.get("/api/billing/subscriptions", headers=holder.auth)
                assert subscriptions.status_code == 200, (mode, holder, subscriptions.text)
                at_billing = await billing.get("/api/billing/subscriptions", headers=holder.auth)
                assert at_billing.status_code == 200, (mode, holder, at_billing.text)

                for refused in (
                    await gateway.get("/api/users/me", headers=holder.forged),
                    await billing.get("/api/billing/subscriptions", headers=holder.forged),
                ):
                    assert refused.status_code == 401, (mode, holder, refused.text)
                    assert holder.email not in refused.text

    # Each side's tokens were served by both sides.
    assert served_by == {"monolith": {"legacy", "new"}, "auth": {"legacy", "new"}}
