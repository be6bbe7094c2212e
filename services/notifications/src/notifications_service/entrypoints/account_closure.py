"""Notifications' part in closing an account, wired into the process: the handlers of
billing's answers (joining the mail consumer) and the loop that erases after the farewell
(``service_layer/account_closure.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from http_platform.loops import Loop
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import CloudEvent, IntegrationEvent
from strangler_eventing import EventHandler

from notifications_service.adapters.personal_data import personal_data_stores
from notifications_service.adapters.store import SqlStore
from notifications_service.bootstrap import NotificationsProcess
from notifications_service.service_layer.account_closure import (
    CLOSURE_EVENTS,
    ClosureMails,
    erase_after_farewells,
)

__all__ = ["closure_handlers", "erasing_after_farewells"]


Handlers = Mapping[type[IntegrationEvent], EventHandler]


def closure_handlers(process: NotificationsProcess) -> Handlers:
    """The consumer's handlers of billing's answers to a closure."""
    mails = ClosureMails(process.choreography)

    async def apply(session: AsyncSession, event: IntegrationEvent, envelope: CloudEvent) -> None:
        await mails.apply(SqlStore(session), event, envelope)

    return dict.fromkeys(CLOSURE_EVENTS, apply)


def erasing_after_farewells(process: NotificationsProcess) -> Loop:
    """The loop erasing a closed account's data once its farewell is done."""
    stores = personal_data_stores(process.sessions)

    async def erase(stop: asyncio.Event) -> None:
        await erase_after_farewells(stores, process.choreography.clock, stop)

    return erase
