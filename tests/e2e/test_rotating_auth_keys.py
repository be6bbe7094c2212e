"""`strangler auth rotate-keys` on a running system logs nobody out: a token signed before
the rotation and one signed after are both served, at auth and through the gateway (whose
edge and whose upstream verify them against auth's key set)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.polling import eventually
from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

PASSWORD = "rotation-password"
SYNC_SECONDS = 30.0


async def _log_in(client: httpx.AsyncClient, email: str) -> str:
    answer = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def test_tokens_signed_before_and_after_a_rotation_are_both_served(
    system: RunningSystem,
) -> None:
    email = f"rotation-{uuid.uuid4().hex[:10]}@example.com"
    async with (
        httpx.AsyncClient(base_url=system.auth_url, timeout=30) as auth,
        httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway,
    ):
        registered = await auth.post(
            "/api/users", json={"email": email, "password": PASSWORD, "name": "Rotation"}
        )
        assert registered.status_code == 201, registered.text
        before = await _log_in(auth, email)

        async def the_monolith_serves(token: str) -> bool:
            answer = await gateway.get(
                "/api/users/me", headers={"Authorization": f"Bearer {token}"}
            )
            return answer.status_code == 200

        await eventually(
            lambda: the_monolith_serves(before),
            "the monolith holds auth's new user (the account sync) and serves auth's token",
            SYNC_SECONDS,
        )

        rotated = system.strangler("auth", "rotate-keys")
        after = await _log_in(auth, email)

        assert rotated.returncode == 0, rotated.stdout + rotated.stderr
        assert "from now on" in rotated.stdout
        for token in (before, after):
            headers = {"Authorization": f"Bearer {token}"}
            assert (await auth.get("/api/users/me", headers=headers)).status_code == 200
            assert (await gateway.get("/api/users/me", headers=headers)).status_code == 200
