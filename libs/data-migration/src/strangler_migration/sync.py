"""Continuous sync: applying the other side's changes as its events arrive.

``ChangeApplier`` is the handler an ``IdempotentConsumer`` runs for each event on a topic
both sides publish to. It skips the events this side published itself (``Side.made``),
translates the others into record changes, and applies each with the version rule, in the
consumer's transaction — so the effect and the "processed" marker commit together. Nothing
it writes goes through the domain, so nothing it applies is published again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import CloudEvent, IntegrationEvent
from strangler_contracts.records import RecordChange, RecordContract
from strangler_eventing import (
    BrokerConfig,
    ConsumerSettings,
    IdempotentConsumer,
    consumer_lag,
    create_producer,
    stop_client,
)
from strangler_persistence import SessionFactory, utcnow

from strangler_migration.applying import ChangeRefused, MissingRecord, apply_change
from strangler_migration.conflicts import Side
from strangler_migration.tables import TableBinding
from strangler_migration.wire import SyncStatus

__all__ = ["ChangeApplier", "SyncConsumer", "Translation"]

Translation = Callable[[IntegrationEvent, str], list[RecordChange]]
"""What an event changed, as record changes made by the given origin."""


class ChangeApplier:
    """Applies the changes of the other side's events to this side's tables."""

    def __init__(
        self,
        *,
        side: Side,
        group: str,
        bindings: Sequence[TableBinding],
        translate: Translation,
        precedence: Sequence[str],
    ) -> None:
        self.side = side
        self.group = group
        self.bindings: Mapping[str, TableBinding] = {b.entity: b for b in bindings}
        self.translate = translate
        self.precedence = tuple(precedence)
        self._status = SyncStatus(group=group, running=False)

    async def __call__(self, session: AsyncSession, event: Any, envelope: CloudEvent) -> None:
        declared: str | None = getattr(event, "origin", None)
        if self.side.made(envelope, declared):
            self._observe(envelope, skipped_own=1)
            return
        for change in self.translate(event, self.side.origin_of(envelope, declared)):
            binding = self.bindings.get(change.entity)
            if binding is not None:  # entities this side does not take are left alone
                await apply_change(session, binding, change, self.precedence)
        self._observe(envelope, applied=1)

    def _observe(self, envelope: CloudEvent, *, applied: int = 0, skipped_own: int = 0) -> None:
        self._status = self._status.model_copy(
            update={
                "applied": self._status.applied + applied,
                "skipped_own": self._status.skipped_own + skipped_own,
                "last_event_type": envelope.type,
                "last_event_time": envelope.time,
                "last_applied_at": utcnow(),
            }
        )

    def status(self, *, running: bool) -> SyncStatus:
        """What this process applied so far (counted as handled, before the commit)."""
        return self._status.model_copy(update={"running": running, "lag": consumer_lag(self.group)})


SYNC_CONSUMER_SETTINGS = ConsumerSettings(max_attempts=8)
"""A failing change is retried for about 15 s with backoff before it is dead-lettered."""

ARRIVED_TOO_EARLY = (MissingRecord, ChangeRefused)
"""A change can arrive before the record it updates or needs (a registration on another topic,
a parent still in flight, events published again after the broker lost its log): it is parked
until that arrives (``IdempotentConsumer``, ``waits_for``), not retried in place nor
dead-lettered. Applying by version makes the order irrelevant."""


class SyncConsumer:
    """One direction of two-way sync: the idempotent consumer of the ``contract``'s events
    (the other side's, on topics both publish to), as consumer group ``group``, with a
    ``ChangeApplier`` writing through ``bindings``, and a dead-letter producer of its own."""

    def __init__(
        self,
        side: Side,
        contract: RecordContract,
        bindings: Sequence[TableBinding],
        *,
        group: str,
        broker: BrokerConfig,
        sessions: SessionFactory,
        inbox: Table,
        settings: ConsumerSettings = SYNC_CONSUMER_SETTINGS,
    ) -> None:
        self.applier = ChangeApplier(
            side=side,
            group=group,
            bindings=bindings,
            translate=contract.translate,
            precedence=contract.precedence,
        )
        self.consumer = IdempotentConsumer(
            broker=broker,
            group_id=group,
            handlers=dict.fromkeys(contract.events, self.applier),
            sessions=sessions,
            inbox=inbox,
            producer=create_producer(broker),
            settings=settings,
            waits_for=ARRIVED_TOO_EARLY,
        )
        self._running = False
        self._broker = broker
        self._runs = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, the dead-letter producer started around it.

        A run after one that failed (the loop supervisor restarts it) gets a new producer:
        a stopped one cannot be started again."""
        if self._runs:
            self.consumer.producer = create_producer(self._broker)
        self._runs += 1
        await self.consumer.producer.start()
        try:
            self._running = True
            await self.consumer.run(stop)
        finally:
            self._running = False
            await stop_client(self.consumer.producer)

    def status(self) -> SyncStatus:
        return self.applier.status(running=self._running)
