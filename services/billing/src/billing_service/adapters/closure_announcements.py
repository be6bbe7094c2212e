"""Billing's outcomes of account closures, published through its outbox.

An outcome belongs to no aggregate of billing's (a customer without a subscription closes
too), so it is written on its own: one short transaction holding one outbox row, with the
closure id as correlation id. The relay publishes it like every other billing event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from strangler_eventing import Outbox
from strangler_eventing.correlation import use_correlation_id
from strangler_persistence import SessionFactory

from billing_service.adapters.events import SOURCE, contract_event
from billing_service.adapters.orm import outbox
from billing_service.domain.events import DomainEvent

__all__ = ["OutboxClosureAnnouncer", "RecordedClosureAnnouncements"]

_OUTBOX: Final = Outbox(outbox, SOURCE)


class OutboxClosureAnnouncer:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def announce(self, event: DomainEvent, *, correlation_id: str) -> None:
        use_correlation_id(correlation_id)
        async with self._sessions() as session, session.begin():
            await _OUTBOX.record(session, contract_event(event))


@dataclass
class RecordedClosureAnnouncements:
    """In memory, for billing on fake units of work: ``(correlation id, event)`` in order."""

    announced: list[tuple[str | None, DomainEvent]] = field(default_factory=list)

    async def announce(self, event: DomainEvent, *, correlation_id: str) -> None:
        self.announced.append((correlation_id, event))
