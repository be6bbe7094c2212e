"""What notifications holds about a person, found and erased with plain SQL on its tables.

A farewell is done when its ledger entry left ``pending``; the closure it belongs to is read
from the causing event the entry keeps (``BillingClosedForAccount``, its ``closure_id``).
Erasing deletes the user's rows from every table that names them — the farewell's own entry
included, so the same farewell is never erased twice — in the caller's transaction.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import IntegrationEvent
from strangler_eventing import Outbox
from strangler_persistence import SessionFactory

from notifications_service.adapters.store import SOURCE
from notifications_service.adapters.tables import (
    notification_preferences,
    notifications,
    outbox,
    recipients,
    send_ledger,
)
from notifications_service.service_layer.account_closure import (
    FAREWELL,
    Farewell,
    PersonalData,
    PersonalDataStores,
)

__all__ = ["SqlPersonalData", "personal_data_stores"]

_OUTBOX = Outbox(outbox, SOURCE)
_DONE = ("sent", "dead", "suppressed")


def personal_data_stores(sessions: SessionFactory) -> PersonalDataStores:
    @contextlib.asynccontextmanager
    async def store() -> AsyncIterator[PersonalData]:
        async with sessions() as session, session.begin():
            yield SqlPersonalData(session)

    return store


class SqlPersonalData:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def farewells_done(self, limit: int) -> list[Farewell]:
        ledger = send_ledger.c
        waiting = send_ledger.alias("waiting")
        still_pending = exists().where(
            waiting.c.user_id == ledger.user_id, waiting.c.state == "pending"
        )
        rows = await self.session.execute(
            select(ledger.user_id, ledger.state, ledger.message_id, ledger.event)
            .where(ledger.template == FAREWELL, ledger.state.in_(_DONE), ~still_pending)
            .order_by(ledger.updated_at)
            .limit(limit)
        )
        return [
            Farewell(
                user_id=row.user_id,
                closure_id=_closure_of(row.event),
                message_id=row.message_id if row.state == "sent" else None,
            )
            for row in rows
        ]

    async def erase(self, user_id: str) -> int:
        erased = 0
        for table in (notifications, send_ledger, notification_preferences, recipients):
            deleted = delete(table).where(table.c.user_id == user_id)
            result: Any = await self.session.execute(deleted)
            erased += int(result.rowcount or 0)
        return erased

    async def publish(self, event: IntegrationEvent, occurred_at: datetime) -> None:
        await _OUTBOX.record(self.session, event, occurred_at=occurred_at)


def _closure_of(event: str) -> str:
    return str(json.loads(event)["data"]["closure_id"])
