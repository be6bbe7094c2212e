"""Alembic environment: runs the gateway's migrations (its flag tables) over its async engine."""

from __future__ import annotations

from strangler_persistence.migrations import run_migrations

from strangler_gateway.sql_store import Base

run_migrations(Base.metadata)
