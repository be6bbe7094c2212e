"""Idempotency keys: a retried request gets the first answer back instead of acting twice.

A key is claimed when a request starts and remembers the response only when the request
recorded something (a charge, succeeded or declined, or a refund). A request that recorded
nothing (invalid input, unknown charge, processor timeout) releases the key, so the client
may retry it, corrected or not. Checking and claiming a key involve no ``await``, so on one
event loop no two requests can claim the same key; a retry that arrives while the first
request is still running is refused rather than queued behind it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = [
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "IdempotencyStore",
    "StoredResponse",
]


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: bytes
    media_type: str


class IdempotencyKeyInUse(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"A request with Idempotency-Key {key!r} is still in flight.")


class IdempotencyKeyReused(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with another request.")


@dataclass
class _Claim:
    fingerprint: str
    response: StoredResponse | None = None


@dataclass
class IdempotencyStore:
    _claims: dict[str, _Claim] = field(default_factory=dict)

    async def respond_once(
        self,
        key: str,
        fingerprint: str,
        attempt: Callable[[], Awaitable[StoredResponse]],
    ) -> tuple[StoredResponse, bool]:
        """Run ``attempt`` once per key; answer ``(response, replayed)``.

        ``fingerprint`` identifies the request; the same key with another fingerprint is
        ``IdempotencyKeyReused``. An ``attempt`` that raises remembers nothing.
        """
        claim = self._claims.get(key)
        if claim is not None:
            if claim.fingerprint != fingerprint:
                raise IdempotencyKeyReused(key)
            if claim.response is None:
                raise IdempotencyKeyInUse(key)
            return claim.response, True
        claim = self._claims[key] = _Claim(fingerprint)
        try:
            claim.response = await attempt()
        except BaseException:
            del self._claims[key]
            raise
        return claim.response, False
