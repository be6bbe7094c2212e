"""Notifications' tables: the monolith's two (same names, same columns), and its own.

- ``notifications`` and ``notification_preferences`` have the monolith's shape column for
  column (no foreign key to a ``users`` table this database does not hold), plus
  ``origin`` and ``version`` for the data migration's sync: the monolith's rows move here
  as they are.
- ``recipients``: who a user id is, learnt from ``UserRegistered``; a billing event only
  names the user.
- ``subscription_plans``: which plan a subscription is of, learnt from
  ``SubscriptionStarted``; an invoice's mail names the plan.
- ``send_ledger``: one row per (event id, template), the state machine that makes a mail
  go out once in effect (see ``domain.ledger``). It keeps the causing event (its topic and
  CloudEvent) so that a mail the SMTP server refuses for good is dead-lettered with it.
- ``processed_events`` (the consumer's inbox), ``outbox`` (``NotificationSent``, dead
  letters), ``migration_checkpoints`` (the backfill's): the libs' tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from strangler_eventing import inbox_table, outbox_table
from strangler_migration import checkpoint_table
from strangler_persistence import UTCDateTime

__all__ = [
    "checkpoints",
    "inbox",
    "metadata",
    "notification_preferences",
    "notifications",
    "outbox",
    "recipients",
    "send_ledger",
    "subscription_plans",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("category", String(20), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("origin", String(40), nullable=False),
    Column("version", Integer, nullable=False),
)

notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("account_emails", Boolean, nullable=False),
    Column("billing_emails", Boolean, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("origin", String(40), nullable=False),
    Column("version", Integer, nullable=False),
)

recipients = Table(
    "recipients",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("name", String(100), nullable=False),
    Column("registered_at", UTCDateTime(), nullable=False),
)

subscription_plans = Table(
    "subscription_plans",
    metadata,
    Column("subscription_id", String(36), primary_key=True),
    Column("plan_id", String(40), nullable=False),
)

send_ledger = Table(
    "send_ledger",
    metadata,
    Column("event_id", String(64), nullable=False),
    Column("template", String(40), nullable=False),
    Column("notification_id", String(36), nullable=False, unique=True),
    Column("user_id", String(36), nullable=False),
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("event_topic", String(200), nullable=False),
    Column("event", Text, nullable=False),
    PrimaryKeyConstraint("event_id", "template"),
    Index("ix_send_ledger_due", "state", "next_attempt_at"),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
checkpoints = checkpoint_table(metadata)
