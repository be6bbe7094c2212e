"""Billing watches account closures for operators: a consumer keeps every closure event it
sees, by correlation id, and ``/internal/choreographies`` answers where each closure stands.

The consumer is a group of its own (``choreography_group``) on the topics the closure's
events travel on. Each event is kept in the transaction that marks it processed, so it is
kept once however often it is delivered; one without a correlation id belongs to no
closure that can be told, and is left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import ALL_EVENTS, CloudEvent, IntegrationEvent
from strangler_eventing import (
    BrokerConfig,
    EventHandler,
    IdempotentConsumer,
    create_producer,
    stop_client,
)
from strangler_persistence import SessionFactory
from strangler_sagas import ChoreographyDefinition, ChoreographyLog, SeenEvent

from billing_service.adapters.orm import inbox

__all__ = ["choreography_observer", "observe_choreographies"]


def choreography_observer(
    broker: BrokerConfig,
    group_id: str,
    sessions: SessionFactory,
    log: ChoreographyLog,
    definitions: Sequence[ChoreographyDefinition],
) -> IdempotentConsumer:
    """The consumer keeping every event of ``definitions`` in ``log``."""
    by_event = {name: d for d in definitions for name in sorted(d.events)}

    async def keep(session: AsyncSession, event: IntegrationEvent, envelope: CloudEvent) -> None:
        if envelope.correlationid is None:
            return
        seen = SeenEvent(
            correlation_id=envelope.correlationid,
            event_id=envelope.id,
            name=event.name,
            source=envelope.source,
            subject=envelope.subject,
            occurred_at=envelope.time,
            data=envelope.data,
        )
        await log.record(session, by_event[event.name], seen)

    handlers: dict[type[IntegrationEvent], EventHandler] = {
        event: keep for event in ALL_EVENTS if event.name in by_event
    }
    return IdempotentConsumer(
        broker=broker,
        group_id=group_id,
        handlers=handlers,
        sessions=sessions,
        inbox=inbox,
        producer=create_producer(broker),
    )


async def observe_choreographies(consumer: IdempotentConsumer, stop: asyncio.Event) -> None:
    """Run ``consumer`` until ``stop`` is set, its dead-letter producer started around it."""
    await consumer.producer.start()
    try:
        await consumer.run(stop)
    finally:
        await stop_client(consumer.producer)
