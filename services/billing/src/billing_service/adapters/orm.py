"""Billing's tables, and the mapping of the domain's classes onto them.

The domain stays plain Python: ``start_mappers`` maps its classes onto these tables from the
outside (imperative mapping). Every record table has ``origin`` and ``version``; ``version``
is SQLAlchemy's version counter, so an ``UPDATE`` made from an outdated read matches no row
and the commit fails instead of overwriting a concurrent change.

The partial unique index on ``subscriptions`` is the database's half of "one active
subscription per customer" (a pending one, whose checkout runs, counts as active): two
concurrent subscribe or checkout requests both pass the domain's check, only one commits.

The ``sagas`` and ``saga_history`` tables hold the state of billing's sagas (checkouts, its
part of account closures), kept by ``strangler_sagas`` in billing's own database;
``choreography_events`` the events of account closures billing observes for operators.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import object_session, registry
from strangler_eventing import inbox_table, outbox_table
from strangler_migration import checkpoint_table
from strangler_persistence import UTCDateTime
from strangler_sagas import choreography_events_table, saga_tables

from billing_service.domain.customers import Customer
from billing_service.domain.invoices import Invoice
from billing_service.domain.payments import Payment
from billing_service.domain.plans import Plan
from billing_service.domain.records import BILLING, Aggregate, Record
from billing_service.domain.refunds import Refund
from billing_service.domain.subscriptions import Subscription

__all__ = [
    "checkpoints",
    "choreography_events",
    "customers",
    "inbox",
    "invoices",
    "metadata",
    "outbox",
    "payments",
    "plans",
    "refunds",
    "sagas",
    "start_mappers",
    "subscriptions",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
_mappers = registry(metadata=metadata)


def _origin_and_version() -> tuple[Column[Any], Column[Any]]:
    return (
        Column("origin", String(40), nullable=False),
        Column("version", Integer, nullable=False),
    )


customers = Table(
    "customers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("name", String(100), nullable=False),
    Column("registered_at", UTCDateTime(), nullable=False),
    *_origin_and_version(),
)

plans = Table(
    "plans",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("interval", String(10), nullable=False),
    Column("active", Boolean, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("plan_id", ForeignKey("plans.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("current_period_start", UTCDateTime(), nullable=False),
    Column("current_period_end", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("cancelled_at", UTCDateTime(), nullable=True),
    *_origin_and_version(),
    Index(
        "uq_subscriptions_one_active_per_customer",
        "customer_id",
        unique=True,
        sqlite_where=text("status IN ('active', 'pending')"),
        postgresql_where=text("status IN ('active', 'pending')"),
    ),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subscription_id", ForeignKey("subscriptions.id"), nullable=False, index=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("amount_cents", Integer, nullable=False),
    Column("amount_refunded_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("period_start", UTCDateTime(), nullable=False),
    Column("period_end", UTCDateTime(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("paid_at", UTCDateTime(), nullable=True),
    *_origin_and_version(),
    UniqueConstraint("subscription_id", "period_start"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False, index=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("status", String(20), nullable=False),
    Column("provider_charge_id", String(64), nullable=True),
    Column("failure_code", String(64), nullable=True),
    Column("failure_message", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("attempted_at", UTCDateTime(), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    *_origin_and_version(),
    UniqueConstraint("customer_id", "idempotency_key"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False, index=True),
    Column("payment_id", ForeignKey("payments.id"), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(500), nullable=True),
    Column("provider_refund_id", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    *_origin_and_version(),
    UniqueConstraint("invoice_id", "idempotency_key"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
checkpoints = checkpoint_table(metadata)
sagas = saga_tables(metadata)
choreography_events = choreography_events_table(metadata)


def _no_events_yet(aggregate: Aggregate, _context: Any) -> None:
    """Loading does not run ``__init__``: a loaded aggregate starts with no new events."""
    aggregate.events = []


def _made_here(_mapper: Any, _connection: Any, record: Record) -> None:
    """A change made through the domain is billing's: the record's origin says so. (The
    other side's changes are written with plain SQL and keep theirs: ``adapters/records``.)"""
    session = object_session(record)
    if session is not None and session.is_modified(record, include_collections=False):
        record.origin = BILLING


def start_mappers() -> None:
    """Map the domain's classes onto the tables; once per process, later calls do nothing."""
    if inspect(Customer, raiseerr=False) is not None:
        return
    _mappers.map_imperatively(Plan, plans)
    for cls, table in (
        (Customer, customers),
        (Subscription, subscriptions),
        (Invoice, invoices),
        (Payment, payments),
        (Refund, refunds),
    ):
        _mappers.map_imperatively(cls, table, version_id_col=table.c.version)
    for aggregate in (Subscription, Invoice):
        event.listen(aggregate, "load", _no_events_yet)
    for cls in (Customer, Subscription, Invoice, Payment, Refund):
        event.listen(cls, "before_update", _made_here)
