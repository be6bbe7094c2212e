"""Alembic environment: runs notifications' migrations over its own async engine."""

from __future__ import annotations

from strangler_persistence.migrations import run_migrations

from notifications_service.adapters.tables import metadata

run_migrations(metadata)
