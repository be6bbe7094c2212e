"""Billing's tables as the records of the data migration (``strangler_contracts.records``).

The records speak the contract's language, so a customer's id is ``user_id`` there and
``customer_id`` here, and a customer's ``display_name`` is its ``name``. The backfill and the
sync write these tables with plain SQL through the bindings, below the domain: a change
copied from the monolith records no domain event, so it is never published as billing's.
"""

from __future__ import annotations

from typing import Final

from strangler_contracts.records import BILLING_FIELDS
from strangler_migration import TableBinding

from billing_service.adapters.orm import customers, invoices, payments, refunds, subscriptions

__all__ = ["BINDINGS"]

_CUSTOMER_ID: Final = {"user_id": "customer_id"}

BINDINGS: Final = (
    TableBinding("customers", customers, BILLING_FIELDS["customers"], {"display_name": "name"}),
    TableBinding("subscriptions", subscriptions, BILLING_FIELDS["subscriptions"], _CUSTOMER_ID),
    TableBinding("invoices", invoices, BILLING_FIELDS["invoices"], _CUSTOMER_ID),
    TableBinding("payments", payments, BILLING_FIELDS["payments"], _CUSTOMER_ID),
    TableBinding("refunds", refunds, BILLING_FIELDS["refunds"]),
)
