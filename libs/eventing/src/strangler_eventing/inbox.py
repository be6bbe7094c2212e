"""The consumer's memory: which events it has applied, recorded with their effects."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Column, Insert, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from strangler_persistence import UTCDateTime

__all__ = ["inbox_table", "record_new_events"]


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


@cache
def record_new_events(inbox: Table, dialect: str) -> Insert:
    """Inserts the given inbox rows but those already there, returning the event ids it
    inserted: which events of a batch are new, found and recorded in one round trip (a
    query and an insert were two). A row another member of the group is inserting is
    waited for, and skipped once that member commits: its event is applied once.

    Built once per inbox and dialect (PostgreSQL's or SQLite's ``ON CONFLICT DO NOTHING``).
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
