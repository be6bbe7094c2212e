"""Registration reaches billing by events: each ``UserRegistered`` becomes a customer (once per
user id, whichever side — the monolith or auth — published it), and ``UserProfileChanged``
renames it.

The idempotent consumer of ``libs/eventing`` does the rest: the customer and the
"processed" marker commit in one transaction (the handler joins it), a redelivered event is
skipped, and what cannot be applied — a malformed message, an unknown event type or version,
data that breaks the contract, a handler failing past its retries — goes to
``strangler.accounts.dlq`` with its reason. Billing never calls the monolith for a user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import (
    AccountClosed,
    CloudEvent,
    IntegrationEvent,
    UserProfileChanged,
    UserRegistered,
)
from strangler_contracts.events.account_closure import erased_email
from strangler_eventing import (
    BrokerConfig,
    ConsumerSettings,
    EventHandler,
    IdempotentConsumer,
    create_producer,
    stop_client,
)
from strangler_persistence import SessionFactory

from billing_service.adapters.orm import inbox
from billing_service.adapters.unit_of_work import JoinedUnitOfWork
from billing_service.domain.commands import AddCustomer, RenameCustomer
from billing_service.service_layer import handlers

__all__ = [
    "add_registered_customer",
    "consume_registrations",
    "registrations",
    "rename_customer",
]


async def add_registered_customer(
    session: AsyncSession, event: UserRegistered, envelope: CloudEvent
) -> None:
    """The customer, written in the consumer's transaction; ``origin`` is the event's producer."""
    command = AddCustomer(
        customer_id=event.user_id,
        email=event.email,
        name=event.display_name,
        registered_at=event.registered_at,
        origin=envelope.source.strip("/"),
    )
    await handlers.add_customer(command, JoinedUnitOfWork(session))


async def rename_customer(
    session: AsyncSession, event: UserProfileChanged, envelope: CloudEvent
) -> None:
    """The customer's new name, in the consumer's transaction."""
    command = RenameCustomer(customer_id=event.user_id, name=event.display_name)
    await handlers.rename_customer(command, JoinedUnitOfWork(session))


async def forget_closed_account(
    session: AsyncSession, event: AccountClosed, envelope: CloudEvent
) -> None:
    """The closed account's address, erased here too, in the consumer's transaction."""
    await handlers.forget_customer_email(
        event.user_id, erased_email(event.user_id), JoinedUnitOfWork(session)
    )


def registrations(
    broker: BrokerConfig,
    group_id: str,
    sessions: SessionFactory,
    settings: ConsumerSettings | None = None,
    also: Mapping[type[IntegrationEvent], EventHandler] | None = None,
) -> IdempotentConsumer:
    """The consumer of ``strangler.accounts``, with a dead-letter producer of its own;
    ``also`` handles more of the topic's events (account closures)."""
    handled: dict[type[IntegrationEvent], EventHandler] = {
        UserRegistered: add_registered_customer,
        UserProfileChanged: rename_customer,
        AccountClosed: forget_closed_account,
        **(also or {}),
    }
    return IdempotentConsumer(
        broker=broker,
        group_id=group_id,
        handlers=handled,
        sessions=sessions,
        inbox=inbox,
        producer=create_producer(broker),
        settings=settings,
    )


async def consume_registrations(consumer: IdempotentConsumer, stop: asyncio.Event) -> None:
    """Run ``consumer`` until ``stop`` is set, its dead-letter producer started around it."""
    await consumer.producer.start()
    try:
        await consumer.run(stop)
    finally:
        await stop_client(consumer.producer)
