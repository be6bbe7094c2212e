"""Alembic environment: runs auth's migrations over its own async engine."""

from __future__ import annotations

from strangler_persistence.migrations import run_migrations

from auth_service.adapters.orm import metadata

run_migrations(metadata)
