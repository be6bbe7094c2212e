"""Alembic environment: runs billing's migrations over its own async engine."""

from __future__ import annotations

from strangler_persistence.migrations import run_migrations

from billing_service.adapters.orm import metadata

run_migrations(metadata)
