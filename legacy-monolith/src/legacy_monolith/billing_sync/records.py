"""Billing's records in the monolith's tables, in the vocabulary of ``strangler_contracts.records``.

The monolith's names are mostly the contract's; a customer is a row of ``users``, whose
``name`` and ``created_at`` are the record's ``display_name`` and ``registered_at``. Users
are only ever written here, so their records stay at version 1.
"""

from __future__ import annotations

from typing import Final

from strangler_contracts.records import BILLING_FIELDS
from strangler_migration import TableBinding

from legacy_monolith.models import ORIGIN, Invoice, Payment, Refund, Subscription, User

__all__ = ["BINDINGS", "SYNCED_BINDINGS"]

SYNCED_BINDINGS: Final = tuple(
    TableBinding(entity, model.__table__, BILLING_FIELDS[entity])  # type: ignore[arg-type]
    for entity, model in (
        ("subscriptions", Subscription),
        ("invoices", Invoice),
        ("payments", Payment),
        ("refunds", Refund),
    )
)
"""What the billing service writes back here through the ACL."""

BINDINGS: Final = (
    TableBinding(
        "customers",
        User.__table__,  # type: ignore[arg-type]
        BILLING_FIELDS["customers"],
        renamed={"display_name": "name", "registered_at": "created_at"},
        version_column=None,
        origin_column=None,
        fixed_origin=ORIGIN,
    ),
    *SYNCED_BINDINGS,
)
