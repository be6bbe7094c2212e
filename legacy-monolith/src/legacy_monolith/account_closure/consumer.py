"""The answers of billing and notifications reach the monolith's accounts side through the
idempotent consumer (``strangler_closures.AccountsSide.answers``): each applied once, in the
transaction that marks it processed."""

from __future__ import annotations

import asyncio

from strangler_closures import follow
from strangler_eventing import BrokerConfig, IdempotentConsumer

from legacy_monolith.account_closure.service import ACCOUNTS_SIDE
from legacy_monolith.database import SessionFactory
from legacy_monolith.models import inbox

__all__ = ["closure_answers", "follow_closures"]


def closure_answers(
    broker: BrokerConfig, group: str, sessions: SessionFactory
) -> IdempotentConsumer:
    """The consumer of billing's and notifications' answers, as consumer group ``group``."""
    return ACCOUNTS_SIDE.answers(broker, group, sessions, inbox)


async def follow_closures(consumer: IdempotentConsumer, stop: asyncio.Event) -> None:
    """Run ``consumer`` until ``stop`` is set, its dead-letter producer started around it."""
    await follow(consumer, stop)
