"""``/internal/auth/…``: account records as the monolith holds them, for auth's backfill and the
reconciliation (``strangler_migration.records_router``), and the ACL's status. Outside
``/api``: the gateway does not route it; only the operator token opens it. The records hold
password hashes: the operator token guards them like the database does."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from strangler_contracts.user_records import USER_RECORDS
from strangler_migration import records_router

from legacy_monolith.runtime import Runtime

__all__ = ["auth_records_router"]


def auth_records_router(runtime: Callable[[], Runtime]) -> APIRouter:
    """The endpoints over the account records and the ACL of the ``runtime`` the app holds."""
    return records_router(
        f"/internal/{USER_RECORDS.capability}",
        records=lambda: runtime().auth_records,
        sync=lambda: runtime().auth_sync,
    )
