"""Idempotency keys: a retried request gets the first answer back instead of acting twice.

A key is claimed when a request starts and remembers the response only when the request
recorded something (a charge, succeeded or declined, or a refund). A request that recorded
nothing (invalid input, unknown charge, processor timeout) releases the key, so the client
may retry it, corrected or not. Checking and claiming a key involve no ``await``, so on one
event loop no two requests can claim the same key; a retry that arrives while the first
request is still running is refused rather than queued behind it.

Remembered answers live in the simulator's database, committed in one transaction with the
charge or refund they report, so a restarted simulator still answers a key it has seen. A
claim still running lives only in memory: a process that dies mid-request recorded nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from payment_simulator.storage import SimulatorDatabase

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
class IdempotencyStore:
    database: SimulatorDatabase
    _running: dict[str, str] = field(default_factory=dict)

    async def respond_once(
        self,
        key: str,
        fingerprint: str,
        attempt: Callable[[], Awaitable[StoredResponse]],
    ) -> tuple[StoredResponse, bool]:
        """Run ``attempt`` once per key; answer ``(response, replayed)``.

        ``fingerprint`` identifies the request; the same key with another fingerprint is
        ``IdempotencyKeyReused``. An ``attempt`` that raises remembers nothing, and what it
        wrote is rolled back.
        """
        remembered = self._remembered(key)
        if remembered is not None:
            stored_fingerprint, response = remembered
            if stored_fingerprint != fingerprint:
                raise IdempotencyKeyReused(key)
            return response, True
        running = self._running.get(key)
        if running is not None:
            if running != fingerprint:
                raise IdempotencyKeyReused(key)
            raise IdempotencyKeyInUse(key)
        self._running[key] = fingerprint
        try:
            response = await attempt()
            self._remember(key, fingerprint, response)
            self.database.commit()
        except BaseException:
            self.database.rollback()
            raise
        finally:
            del self._running[key]
        return response, False

    def _remembered(self, key: str) -> tuple[str, StoredResponse] | None:
        row = self.database.connection.execute(
            "SELECT fingerprint, status_code, body, media_type FROM idempotency_keys WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        fingerprint, status_code, body, media_type = row
        return fingerprint, StoredResponse(status_code, bytes(body), media_type)

    def _remember(self, key: str, fingerprint: str, response: StoredResponse) -> None:
        self.database.connection.execute(
            "INSERT INTO idempotency_keys (key, fingerprint, status_code, body, media_type) "
            "VALUES (?, ?, ?, ?, ?)",
            (key, fingerprint, response.status_code, response.body, response.media_type),
        )
