"""Billing's data as records: the vocabulary the monolith and the billing service migrate in.

The backfill, the reconciliation and the two-way sync all speak of the same records: an
entity (``customers``, ``subscriptions``, ``invoices``, ``payments``, ``refunds``), an id,
the record's ``version`` and ``origin``, and the fields below, named as the contract events
name them (``user_id``, not billing's ``customer_id`` nor the legacy ``users.name``). Each
side maps them onto its own tables; neither reads the other's.

``billing_record_changes`` says what one billing event changed, as record changes: the same
translation on both sides, so that an event means the same thing to each. ``BILLING_RECORDS``
gathers it all for the mechanism of ``strangler_migration``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.events import (
    InvoiceIssued,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionStarted,
    UserRegistered,
)

__all__ = [
    "BILLING_ENTITIES",
    "BILLING_FIELDS",
    "BILLING_PRECEDENCE",
    "BILLING_RECORDS",
    "BILLING_SYNCED_EVENTS",
    "FIRST_VERSION",
    "UNPAID_INVOICE",
    "RecordChange",
    "RecordContract",
    "billing_record_changes",
]

FIRST_VERSION: Final = 1

BILLING_PRECEDENCE: Final = ("legacy-monolith", "billing")
"""Who wins when both sides made the same version of one record concurrently: the monolith,
while it is billing's system of record. Both sides must use the same order."""

BILLING_SYNCED_EVENTS: Final[tuple[type[IntegrationEvent], ...]] = (
    SubscriptionStarted,
    SubscriptionActivated,
    SubscriptionCancelled,
    InvoiceIssued,
    PaymentSucceeded,
    PaymentFailed,
    RefundIssued,
)
"""The events both sides publish on ``strangler.billing`` and apply from each other."""

BILLING_FIELDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "customers": ("email", "display_name", "registered_at"),
        "subscriptions": (
            "user_id",
            "plan_id",
            "status",
            "current_period_start",
            "current_period_end",
            "created_at",
            "cancelled_at",
        ),
        "invoices": (
            "subscription_id",
            "user_id",
            "amount_cents",
            "amount_refunded_cents",
            "currency",
            "period_start",
            "period_end",
            "status",
            "issued_at",
            "paid_at",
        ),
        "payments": (
            "invoice_id",
            "user_id",
            "idempotency_key",
            "amount_cents",
            "currency",
            "card_last4",
            "status",
            "provider_charge_id",
            "failure_code",
            "failure_message",
            "created_at",
            "attempted_at",
            "completed_at",
        ),
        "refunds": (
            "invoice_id",
            "payment_id",
            "idempotency_key",
            "amount_cents",
            "currency",
            "reason",
            "provider_refund_id",
            "created_at",
        ),
    }
)
"""The fields of each entity that both sides hold, and that reconciliation compares."""

BILLING_ENTITIES: Final = tuple(BILLING_FIELDS)
"""In dependency order: a record's parents come in an earlier entity."""


UNPAID_INVOICE: Final[Mapping[str, Any]] = MappingProxyType(
    {"paid_at": None, "amount_refunded_cents": 0}
)
"""What an invoice that is not paid (open again, or void) holds besides its status.

Every change that leaves an invoice unpaid says so, and a payment says it starts from
nothing refunded: a change that wins a tie (the same version made on both sides) then
overwrites every field the losing side's change had set, not only its status."""


@dataclass(frozen=True)
class RecordChange:
    """One record as one change left it: its ``version``, the side that made it (``origin``),
    and the ``fields`` it set.

    A ``complete`` change can create the record (fields it leaves out are empty); an
    incomplete one only updates a record the receiving side already holds.
    """

    entity: str
    id: str
    version: int
    origin: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = False


def billing_record_changes(event: IntegrationEvent, origin: str) -> list[RecordChange]:
    """The record changes ``event`` describes, made on side ``origin``.

    Events written before two-way sync carry no versions and yield nothing: the backfill
    copies what they did.
    """
    translate = _TRANSLATIONS.get(type(event))
    return [] if translate is None else translate(event, origin)


def _customer(event: UserRegistered, origin: str) -> list[RecordChange]:
    data = {
        "email": event.email,
        "display_name": event.display_name,
        "registered_at": event.registered_at,
    }
    return [RecordChange("customers", event.user_id, FIRST_VERSION, origin, data, complete=True)]


def _started(event: SubscriptionStarted, origin: str) -> list[RecordChange]:
    if event.subscription_version is None:
        return []
    data = {
        "user_id": event.user_id,
        "plan_id": event.plan_id,
        "status": event.status or "active",
        "current_period_start": event.period_start,
        "current_period_end": event.period_end,
        "created_at": event.started_at,
        "cancelled_at": None,
    }
    return [
        RecordChange(
            "subscriptions", event.subscription_id, event.subscription_version, origin, data, True
        )
    ]


def _activated(event: SubscriptionActivated, origin: str) -> list[RecordChange]:
    if event.subscription_version is None:
        return []
    active = {"status": "active"}
    return [
        RecordChange(
            "subscriptions", event.subscription_id, event.subscription_version, origin, active
        )
    ]


def _cancelled(event: SubscriptionCancelled, origin: str) -> list[RecordChange]:
    if event.subscription_version is None or event.voided_invoice_versions is None:
        return []
    data = {"status": "cancelled", "cancelled_at": event.cancelled_at}
    changes = [
        RecordChange(
            "subscriptions", event.subscription_id, event.subscription_version, origin, data
        )
    ]
    for invoice_id in event.voided_invoice_ids:
        version = event.voided_invoice_versions[invoice_id]
        voided = {"status": "void", **UNPAID_INVOICE}
        changes.append(RecordChange("invoices", invoice_id, version, origin, voided))
    return changes


def _issued(event: InvoiceIssued, origin: str) -> list[RecordChange]:
    if event.invoice_version is None or event.subscription_version is None:
        return []
    period = {"current_period_start": event.period_start, "current_period_end": event.period_end}
    data = {
        "subscription_id": event.subscription_id,
        "user_id": event.user_id,
        "amount_cents": event.amount_cents,
        "amount_refunded_cents": 0,
        "currency": event.currency,
        "period_start": event.period_start,
        "period_end": event.period_end,
        "status": "open",
        "issued_at": event.issued_at,
        "paid_at": None,
    }
    return [
        RecordChange(
            "subscriptions", event.subscription_id, event.subscription_version, origin, period
        ),
        RecordChange("invoices", event.invoice_id, event.invoice_version, origin, data, True),
    ]


def _payment(
    event: PaymentSucceeded | PaymentFailed, origin: str, outcome: Mapping[str, Any]
) -> RecordChange | None:
    if event.payment_version is None or event.idempotency_key is None:
        return None
    data = {
        "invoice_id": event.invoice_id,
        "user_id": event.user_id,
        "idempotency_key": event.idempotency_key,
        "amount_cents": event.amount_cents,
        "currency": event.currency,
        "card_last4": event.card_last4,
        "created_at": event.payment_created_at,
        "attempted_at": event.attempted_at,
        **outcome,
    }
    return RecordChange("payments", event.payment_id, event.payment_version, origin, data, True)


def _invoice(
    event: PaymentSucceeded | PaymentFailed, origin: str, data: Mapping[str, Any]
) -> RecordChange | None:
    if event.invoice_version is None:
        return None
    return RecordChange("invoices", event.invoice_id, event.invoice_version, origin, data)


def _succeeded(event: PaymentSucceeded, origin: str) -> list[RecordChange]:
    outcome = {
        "status": "succeeded",
        "provider_charge_id": event.provider_charge_id,
        "completed_at": event.paid_at,
    }
    changes = (
        _payment(event, origin, outcome),
        _invoice(event, origin, {**UNPAID_INVOICE, "status": "paid", "paid_at": event.paid_at}),
    )
    return [change for change in changes if change is not None]


def _failed(event: PaymentFailed, origin: str) -> list[RecordChange]:
    outcome = {
        "status": "failed",
        "failure_code": event.failure_code,
        "failure_message": event.failure_message,
        "completed_at": event.failed_at,
    }
    reopened = {"status": "open", **UNPAID_INVOICE}
    changes = (_payment(event, origin, outcome), _invoice(event, origin, reopened))
    return [change for change in changes if change is not None]


def _refunded(event: RefundIssued, origin: str) -> list[RecordChange]:
    if event.refund_version is None or event.invoice_version is None:
        return []
    refund = {
        "invoice_id": event.invoice_id,
        "payment_id": event.payment_id,
        "idempotency_key": event.idempotency_key,
        "amount_cents": event.amount_cents,
        "currency": event.currency,
        "reason": event.reason,
        "provider_refund_id": event.provider_refund_id,
        "created_at": event.refunded_at,
    }
    invoice: dict[str, Any] = {"amount_refunded_cents": event.invoice_refunded_cents}
    if event.invoice_status is not None:
        invoice["status"] = event.invoice_status
    return [
        RecordChange("refunds", event.refund_id, event.refund_version, origin, refund, True),
        RecordChange("invoices", event.invoice_id, event.invoice_version, origin, invoice),
    ]


_TRANSLATIONS: Mapping[type[IntegrationEvent], Callable[[Any, str], list[RecordChange]]] = {
    UserRegistered: _customer,
    SubscriptionStarted: _started,
    SubscriptionActivated: _activated,
    SubscriptionCancelled: _cancelled,
    InvoiceIssued: _issued,
    PaymentSucceeded: _succeeded,
    PaymentFailed: _failed,
    RefundIssued: _refunded,
}


@dataclass(frozen=True)
class RecordContract:
    """A capability's data as records, everything its data migration needs to know: the
    entities and their ``fields`` (parents first), the ``events`` both sides publish and
    apply from each other, what each says (``translate``) and who wins a tie (``precedence``).
    """

    capability: str
    fields: Mapping[str, tuple[str, ...]]
    events: tuple[type[IntegrationEvent], ...]
    translate: Callable[[IntegrationEvent, str], list[RecordChange]]
    precedence: tuple[str, ...]

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(self.fields)


BILLING_RECORDS: Final = RecordContract(
    "billing", BILLING_FIELDS, BILLING_SYNCED_EVENTS, billing_record_changes, BILLING_PRECEDENCE
)
