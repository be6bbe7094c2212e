"""``/internal/billing/…``: billing's records as the monolith holds them, for the backfill and
the reconciliation (``strangler_migration.records_router``), and the ACL's status. Outside
``/api``: the gateway does not route it."""

from __future__ import annotations

from strangler_migration import records_router

__all__ = ["router"]

router = records_router("/internal/billing", records="billing_records", sync="billing_sync")
