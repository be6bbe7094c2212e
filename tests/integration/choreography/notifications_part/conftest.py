"""Notifications' own fixtures (its database, the SMTP sink, its settings), in place of
billing's that the closure tests around it use."""

from tests.integration.notifications.conftest import (
    database_url,
    engine,
    group,
    producer,
    settings,
    smtp_sink,
)

__all__ = ["database_url", "engine", "group", "producer", "settings", "smtp_sink"]
