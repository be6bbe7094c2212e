"""The answers of billing and notifications reach the accounts side through the idempotent
consumer: each applied once, in the transaction that marks it processed."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import (
    AccountClosureRefundDeclined,
    BillingClosedForAccount,
    CloudEvent,
    FarewellSentAndDataErased,
    IntegrationEvent,
)
from strangler_eventing import (
    BrokerConfig,
    EventHandler,
    IdempotentConsumer,
    create_producer,
    stop_client,
)

from legacy_monolith.account_closure import service
from legacy_monolith.database import SessionFactory
from legacy_monolith.models import inbox

__all__ = ["closure_answers", "follow_closures"]


async def _apply(session: AsyncSession, event: IntegrationEvent, envelope: CloudEvent) -> None:
    match event:
        case BillingClosedForAccount():
            await service.billing_closed(session, event)
        case AccountClosureRefundDeclined():
            await service.refund_declined(session, event)
        case FarewellSentAndDataErased():
            await service.farewell_sent(session, event)


def closure_answers(
    broker: BrokerConfig, group: str, sessions: SessionFactory
) -> IdempotentConsumer:
    """The consumer of billing's and notifications' answers, as consumer group ``group``."""
    answers = (BillingClosedForAccount, AccountClosureRefundDeclined, FarewellSentAndDataErased)
    handlers: dict[type[IntegrationEvent], EventHandler] = dict.fromkeys(answers, _apply)
    return IdempotentConsumer(
        broker=broker,
        group_id=group,
        handlers=handlers,
        sessions=sessions,
        inbox=inbox,
        producer=create_producer(broker),
    )


async def follow_closures(consumer: IdempotentConsumer, stop: asyncio.Event) -> None:
    """Run ``consumer`` until ``stop`` is set, its dead-letter producer started around it."""
    await consumer.producer.start()
    try:
        await consumer.run(stop)
    finally:
        await stop_client(consumer.producer)
