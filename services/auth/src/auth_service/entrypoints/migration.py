"""Auth's side of moving accounts out of the monolith (the README's "Moving auth"), as internal
endpoints and background loops over what ``bootstrap_process`` built:

- ``/internal/auth/…``: auth's account records, for the reconciliation (and as an export);
- ``/internal/migration/auth``: the backfill from the monolith's export, driven a few pages
  per call (``strangler migrate auth backfill``), and the sync's status;
- the loops: the outbox relay publishing auth's account events, and the consumer applying
  the monolith's account changes here (``AccountMigration.sync``).

The records hold password hashes: only the operator token opens these endpoints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import APIRouter
from http_platform.loops import Loop
from strangler_contracts.user_records import USER_RECORDS
from strangler_eventing import OutboxRelay, create_producer
from strangler_migration import backfill_router, records_router

from auth_service.adapters.account_events import SOURCE
from auth_service.adapters.orm import outbox
from auth_service.bootstrap import AuthProcess, broker_config

__all__ = ["migration_loops", "migration_routers"]


def migration_routers(process: Callable[[], AuthProcess]) -> list[APIRouter]:
    """The records and backfill endpoints over the ``process`` the app holds."""
    capability = USER_RECORDS.capability
    return [
        records_router(
            f"/internal/{capability}",
            records=lambda: process().migration.records,
            sync=lambda: process().migration.sync,
        ),
        backfill_router(
            f"/internal/migration/{capability}",
            backfill=lambda: process().migration.backfill,
            sync=lambda: process().migration.sync,
        ),
    ]


def migration_loops(process: AuthProcess) -> dict[str, Loop]:
    """The outbox relay and the sync, each when its setting is on."""
    loops: dict[str, Loop] = {}
    if process.settings.outbox_relay_enabled:

        async def relay(stop: asyncio.Event) -> None:
            producer = create_producer(broker_config(process.settings))
            await OutboxRelay(process.engine, outbox, producer, SOURCE).run(stop)

        loops["outbox-relay"] = relay
    if process.migration.sync is not None:
        loops["legacy-sync"] = process.migration.sync.run
    return loops
