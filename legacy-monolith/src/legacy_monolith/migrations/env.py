"""Alembic environment: runs the monolith's migrations over its async engine."""

from __future__ import annotations

from strangler_persistence.migrations import run_migrations

from legacy_monolith import models  # noqa: F401  (registers every table on Base.metadata)
from legacy_monolith.database import Base

run_migrations(Base.metadata)
