"""Users as records: the vocabulary the monolith and the auth service migrate accounts in.

One entity, ``users``: its id (the user id both sides share), its ``version`` and ``origin``
(``strangler_contracts.records``), and the fields below, named as the contract events name
them (``display_name`` and ``registered_at``, where the legacy table says ``name`` and
``created_at``). The password hash moves as it is stored — argon2id, or the older
``pbkdf2_sha256`` some legacy accounts still carry until auth upgrades it at their next login.

Every change of an account on either side publishes ``UserAccountChanged`` with the whole
record (on ``strangler.credentials``, which only these two sides read), so a change is always
complete: it creates the record or replaces it, whichever order changes arrive in, by the
version rule. The public events (``UserRegistered``, ``PasswordChanged``,
``UserProfileChanged``) say the same to everyone else, without the hash, and move nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.events import UserAccountChanged
from strangler_contracts.records import RecordChange, RecordContract

__all__ = [
    "USERS",
    "USER_FIELDS",
    "USER_PRECEDENCE",
    "USER_RECORDS",
    "USER_SYNCED_EVENTS",
    "user_record_changes",
]

USERS: Final = "users"

USER_PRECEDENCE: Final = ("legacy-monolith", "auth")
"""Who wins when both sides made the same version of one account concurrently (a password
changed on each side at once): the monolith, while it is the accounts' system of record."""

USER_SYNCED_EVENTS: Final[tuple[type[IntegrationEvent], ...]] = (UserAccountChanged,)

USER_FIELDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        USERS: (
            "email",
            "email_key",
            "display_name",
            "password_hash",
            "password_changed_at",
            "registered_at",
        )
    }
)
"""What both sides hold of an account, and what reconciliation compares."""


def user_record_changes(event: IntegrationEvent, origin: str) -> list[RecordChange]:
    """The account record ``event`` carries, as a complete change made on side ``origin``."""
    if not isinstance(event, UserAccountChanged):
        return []
    fields = {
        "email": event.email,
        "email_key": event.email_key,
        "display_name": event.display_name,
        "password_hash": event.password_hash,
        "password_changed_at": event.password_changed_at,
        "registered_at": event.registered_at,
    }
    return [RecordChange(USERS, event.user_id, event.user_version, origin, fields, complete=True)]


USER_RECORDS: Final = RecordContract(
    "auth", USER_FIELDS, USER_SYNCED_EVENTS, user_record_changes, USER_PRECEDENCE
)
"""Accounts moving to the auth service: ``strangler migrate auth``, ``/internal/auth``."""
