"""Events of the accounts capability, on ``strangler.accounts``, keyed by user id."""

from __future__ import annotations

from datetime import datetime

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.topics import ACCOUNTS

__all__ = ["UserRegistered"]


class UserRegistered(IntegrationEvent):
    """A person created an account."""

    name = "accounts.user-registered"
    version = 1
    topic = ACCOUNTS.name
    aggregate_field = "user_id"

    user_id: str
    email: str
    display_name: str
    registered_at: datetime
