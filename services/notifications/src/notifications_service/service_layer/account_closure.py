"""Notifications' part in closing an account: say farewell, then forget the user.

A participant of a choreography nobody orchestrates (``strangler_contracts.events.
account_closure``). Notifications waits for billing's answer:

- ``BillingClosedForAccount``: the farewell mail is recorded in the send ledger like any
  other mail (the consumer's transaction, once per event), telling what was refunded.
- ``AccountClosureRefundDeclined``: the closure pauses; the user is mailed why, and nothing
  is erased — the account stays open.

The erasure follows the farewell, not the request: ``erase_after_farewells`` finds farewells
the sender is done with (sent, refused for good, or suppressed by the user's choice) and,
once no other mail of the user is still waiting (the refund's mail comes just before), erases
in one transaction everything notifications holds about the user — mails, ledger entries,
preferences, the address — and publishes ``FarewellSentAndDataErased`` with the closure id as
correlation id. The farewell's own ledger entry goes with the rest, so it is erased once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from local_processes import stopped_within
from strangler_contracts import (
    AccountClosureRefundDeclined,
    BillingClosedForAccount,
    CloudEvent,
    FarewellSentAndDataErased,
    IntegrationEvent,
)
from strangler_eventing.correlation import use_correlation_id

from notifications_service.service_layer.choreography import (
    MailChoreography,
    MailRequest,
    format_money,
)
from notifications_service.service_layer.ports import Clock, NotificationStore

__all__ = [
    "CLOSURE_EVENTS",
    "FAREWELL",
    "PAUSED",
    "ClosureMails",
    "Farewell",
    "PersonalData",
    "erase_after_farewells",
]

logger = logging.getLogger(__name__)

FAREWELL: Final = "farewell"
PAUSED: Final = "account_closure_paused"
CLOSURE_EVENTS: Final[tuple[type[IntegrationEvent], ...]] = (
    BillingClosedForAccount,
    AccountClosureRefundDeclined,
)
ERASE_BATCH: Final = 20


@dataclass(frozen=True)
class Farewell:
    """A farewell the sender is done with: whose, for which closure, and its Message-ID
    (None when it did not go out)."""

    user_id: str
    closure_id: str
    message_id: str | None


class PersonalData(Protocol):
    """What notifications holds about people, within one transaction."""

    async def farewells_done(self, limit: int) -> list[Farewell]:
        """Farewells sent, dead or suppressed whose user has no other mail still pending."""
        ...

    async def erase(self, user_id: str) -> int:
        """Delete every record about the user; how many there were."""
        ...

    async def publish(self, event: IntegrationEvent, occurred_at: datetime) -> None: ...


PersonalDataStores = Callable[[], AbstractAsyncContextManager[PersonalData]]


class ClosureMails:
    """Applies billing's answers to a closure, in the consumer's transaction (``store``)."""

    def __init__(self, mails: MailChoreography) -> None:
        self.mails = mails

    async def apply(
        self, store: NotificationStore, event: IntegrationEvent, envelope: CloudEvent
    ) -> None:
        request = _request_for(event)
        if request is not None:
            await self.mails.record(store, request, envelope, event.topic)


def _request_for(event: IntegrationEvent) -> MailRequest | None:
    match event:
        case BillingClosedForAccount():
            refund = (
                f"We refunded {format_money(event.refunded_cents, event.currency)} for the "
                "unused part of your plan."
                if event.refunded_cents and event.currency
                else "There was nothing left to refund."
            )
            return MailRequest(FAREWELL, event.user_id, {"refund": refund})
        case AccountClosureRefundDeclined():
            amount = format_money(event.amount_cents, event.currency)
            return MailRequest(PAUSED, event.user_id, {"amount": amount, "reason": event.reason})
    return None


async def erase_after_farewells(
    stores: PersonalDataStores, clock: Clock, stop: asyncio.Event, poll_seconds: float = 0.5
) -> None:
    """Erase the data of every user whose farewell is done, until ``stop`` is set."""
    while not stop.is_set():
        erased = await erase_once(stores, clock)
        if not erased and await stopped_within(stop, poll_seconds):
            return


async def erase_once(stores: PersonalDataStores, clock: Clock) -> int:
    """One round: each farewell done, erased and announced in a transaction of its own."""
    async with stores() as data:
        farewells = await data.farewells_done(ERASE_BATCH)
    for farewell in farewells:
        async with stores() as data:
            erased = await data.erase(farewell.user_id)
            now = clock()
            use_correlation_id(farewell.closure_id)
            await data.publish(
                FarewellSentAndDataErased(
                    closure_id=farewell.closure_id,
                    user_id=farewell.user_id,
                    farewell_message_id=farewell.message_id,
                    erased_records=erased,
                    erased_at=now,
                ),
                now,
            )
        logger.info("erased %d records of a closed account", erased)
    return len(farewells)
