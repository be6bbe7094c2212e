"""Driving the auth service's HTTP API as a client does: register, log in, read problems.

Passwords are hashed with cheap argon2id parameters in tests (``FAST_PASSWORDS``): the
hashes are real argon2id, only lighter, so a suite of logins does not take minutes of CPU.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from argon2 import PasswordHasher
from auth_service.adapters.passwords import PasswordHashes

__all__ = [
    "FAST_PASSWORDS",
    "PASSWORD",
    "Account",
    "assert_problem",
    "log_in",
    "sign_up",
    "unique_email",
]

PASSWORD = "correct-horse-battery"
PROBLEM_TYPE_BASE = "https://strangler-fig.dev/problems/"


def fast_passwords() -> PasswordHashes:
    return PasswordHashes(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


FAST_PASSWORDS = fast_passwords()


def unique_email(who: str = "user") -> str:
    return f"{who}-{uuid.uuid4().hex[:12]}@example.com"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def log_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    return await client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=headers
    )


async def sign_up(
    client: httpx.AsyncClient, who: str = "user", password: str = PASSWORD
) -> Account:
    """Register a new account and log in to it."""
    email = unique_email(who)
    registered = await client.post(
        "/api/users", json={"email": email, "password": password, "name": who.title()}
    )
    assert registered.status_code == 201, registered.text
    logged_in = await log_in(client, email, password)
    assert logged_in.status_code == 200, logged_in.text
    tokens = logged_in.json()
    return Account(
        registered.json()["id"], email, password, tokens["access_token"], tokens["refresh_token"]
    )


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem document of type ``slug``; answers the document."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    document: dict[str, Any] = response.json()
    assert document["type"] == PROBLEM_TYPE_BASE + slug, document
    assert document["status"] == status
    return document
