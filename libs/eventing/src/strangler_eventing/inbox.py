"""The consumer's memory: which events it has applied, recorded with their effects."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table
from strangler_persistence import UTCDateTime

__all__ = ["inbox_table"]


def inbox_table(metadata: MetaData, name: str = "processed_events") -> Table:
    """One row per (consumer group, event id), inserted in the handler's own transaction.

    Because the row and the handler's effects commit together, an event is applied at most
    once per group whatever the broker redelivers.
    """
    return Table(
        name,
        metadata,
        Column("consumer_group", String(200), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", UTCDateTime(), nullable=False),
    )
