"""Where the simulator keeps what a real provider never forgets: its charges, its refunds and
the answer it gave under every idempotency key, in one SQLite database (stdlib ``sqlite3``).

With a file (``PAYSIM_STATE_PATH``; ``strangler up`` passes
``.strangler/data/payment-simulator.db``) a restarted simulator answers a replayed key with
its first answer and charges nothing again — a saga resumed after a restart stays safe.
Without one, the database is in memory and forgotten with the process (tests).

Each write belongs to a unit that ends with ``commit()``: a charge or refund is committed
together with the idempotency answer that reports it (``IdempotencyStore``), so no restart
can keep one without the other. Statements are tiny and local, so they run on the event
loop's thread; nothing awaits between a unit's first write and its commit.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["SimulatorDatabase"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    card_last4 TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    failure_code TEXT,
    created_at TEXT NOT NULL,
    amount_refunded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL REFERENCES charges (id),
    amount INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    body BLOB NOT NULL,
    media_type TEXT NOT NULL
);
"""


class SimulatorDatabase:
    """One connection to the simulator's SQLite database (a file, or memory when ``path``
    is None), its tables created on first use."""

    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.connection = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False
        )
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=FULL")
        self.connection.executescript(_SCHEMA)

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()

    def close(self) -> None:
        self.connection.close()
