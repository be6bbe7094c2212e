"""Participants of the account closure on real infrastructure: each on a fresh PostgreSQL
database, the session's embedded broker between them, the real payment simulator behind
billing. Billing's fixtures (database, settings, a known customer) are billing's own."""

from tests.integration.billing_service.conftest import (
    database_url,
    engine,
    settings,
)

__all__ = ["database_url", "engine", "settings"]
