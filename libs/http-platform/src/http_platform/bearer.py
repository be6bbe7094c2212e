"""What every side answers a bearer access token it cannot take, in the same words: no token
or a refused one is a 401 problem with ``WWW-Authenticate: Bearer``; a token that cannot be
checked because the auth service's signing keys cannot be fetched is a 503 with
``Retry-After`` — never a 401, the token may well be good."""

from __future__ import annotations

from typing import Final

from http_platform.problem_catalogue import SERVICE_UNAVAILABLE, UNAUTHENTICATED
from http_platform.problem_writer import Problem

__all__ = ["KEYS_RETRY_AFTER_SECONDS", "NO_BEARER", "keys_unavailable", "unauthenticated"]

KEYS_RETRY_AFTER_SECONDS: Final = 10
NO_BEARER: Final = "Send 'Authorization: Bearer <access_token>' from /api/auth/login."


def unauthenticated(detail: str) -> Problem:
    """A 401 saying why, asking for a bearer token."""
    return Problem(UNAUTHENTICATED, detail, headers={"WWW-Authenticate": "Bearer"})


def keys_unavailable() -> Problem:
    """A 503: the auth service's keys could not be fetched to check the token; retry."""
    return Problem(
        SERVICE_UNAVAILABLE,
        "The auth service's signing keys cannot be fetched to check this token; retry.",
        headers={"Retry-After": str(KEYS_RETRY_AFTER_SECONDS)},
    )
