"""The events that cause mail reach notifications through the idempotent consumer.

One consumer group reads ``strangler.accounts`` and ``strangler.billing``; for each event
the choreography records its mail in the consumer's own transaction, with the event's
"processed" mark (``libs/eventing``): a redelivered event records nothing twice. A billing
event whose user's registration has not arrived waits, parked, until it does; what cannot
be applied goes to the topic's dead-letter topic with its reason. A recorded mail wakes the
sender.
"""

from __future__ import annotations

import asyncio

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import CloudEvent, IntegrationEvent
from strangler_eventing import (
    BrokerConfig,
    ConsumerSettings,
    EventHandler,
    IdempotentConsumer,
    create_producer,
    stop_client,
)
from strangler_eventing.consumer import Outcome

from notifications_service.adapters.store import SqlStore
from notifications_service.adapters.tables import inbox
from notifications_service.bootstrap import NotificationsProcess
from notifications_service.domain.errors import RecipientNotYetKnown
from notifications_service.entrypoints.account_closure import closure_handlers
from notifications_service.service_layer.choreography import HANDLED_EVENTS

__all__ = ["consume_events", "mail_events"]


def mail_events(
    process: NotificationsProcess, broker: BrokerConfig, settings: ConsumerSettings | None = None
) -> IdempotentConsumer:
    """The consumer of every event that causes mail, with a dead-letter producer of its own."""
    choreography = process.choreography

    async def apply(session: AsyncSession, event: IntegrationEvent, envelope: CloudEvent) -> None:
        await choreography.apply(SqlStore(session), event, envelope)

    async def wake_sender(_: ConsumerRecord, outcome: Outcome) -> None:
        if outcome == "processed":
            process.sender.wake.set()

    handlers: dict[type[IntegrationEvent], EventHandler] = dict.fromkeys(HANDLED_EVENTS, apply)
    handlers |= closure_handlers(process)
    return IdempotentConsumer(
        broker=broker,
        group_id=process.settings.consumer_group,
        handlers=handlers,
        sessions=process.sessions,
        inbox=inbox,
        producer=create_producer(broker),
        settings=settings,
        on_processed=wake_sender,
        waits_for=(RecipientNotYetKnown,),
    )


async def consume_events(consumer: IdempotentConsumer, stop: asyncio.Event) -> None:
    """Run ``consumer`` until ``stop`` is set, its dead-letter producer started around it
    (and closed again when the broker cannot be reached at start)."""
    try:
        await consumer.producer.start()
        await consumer.run(stop)
    finally:
        await stop_client(consumer.producer)
