"""Events of the accounts capability, keyed by user id.

Two channels, on purpose:

- ``strangler.accounts`` says what happened to an account, for every capability that cares
  (billing keeps a customer per user): ``UserRegistered``, ``PasswordChanged``,
  ``UserProfileChanged``. They never carry a password hash.
- ``strangler.credentials`` carries ``UserAccountChanged``: the whole account record after
  each change, password hash included, so that the two sides that hold credentials while
  auth is extracted (the monolith and the auth service) keep the same users (two-way sync,
  ``strangler_contracts.user_records``). Nobody else reads it; on a real cluster its ACLs
  say so.

While auth is extracted both sides publish all of them, each change once, from whichever
side served it; ``origin`` names that side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.mail import MailSentBy
from strangler_contracts.topics import ACCOUNTS, CREDENTIALS

__all__ = [
    "AccountChange",
    "PasswordChanged",
    "UserAccountChanged",
    "UserProfileChanged",
    "UserRegistered",
]

AccountChange = Literal["registered", "password-changed", "password-rehashed", "profile-changed"]
"""What changed the account: ``password-rehashed`` is the same password under a newer hash
scheme (auth upgrades older hashes at login), so no token is revoked."""

_ORIGIN_DESCRIPTION = "The side that served the change: 'legacy-monolith' or 'auth'."


class _AccountEvent(IntegrationEvent):
    topic = ACCOUNTS.name
    aggregate_field = "user_id"


class UserRegistered(_AccountEvent):
    """A person created an account."""

    name = "accounts.user-registered"
    version = 1

    user_id: str
    email: str
    display_name: str
    registered_at: datetime
    origin: str | None = Field(
        default=None,
        description=f"{_ORIGIN_DESCRIPTION} Absent in events written before auth was "
        "extracted: the envelope's source says it then.",
    )
    mail_sent_by: MailSentBy = None


class PasswordChanged(_AccountEvent):
    """A user changed their password: every token issued before ``changed_at`` is refused."""

    name = "accounts.password-changed"
    version = 1

    user_id: str
    changed_at: datetime
    origin: str = Field(description=_ORIGIN_DESCRIPTION)
    mail_sent_by: MailSentBy = None


class UserProfileChanged(_AccountEvent):
    """A user changed how they are shown: their display name."""

    name = "accounts.user-profile-changed"
    version = 1

    user_id: str
    display_name: str
    changed_at: datetime
    origin: str = Field(description=_ORIGIN_DESCRIPTION)


class UserAccountChanged(IntegrationEvent):
    """A user's whole account record after one change, password hash included, for the sides
    that hold credentials (the monolith and auth) and nobody else.

    It carries the full record rather than what changed, so a side applies it whatever order
    the changes arrive in: the higher ``user_version`` wins (``strangler_migration``).
    """

    name = "accounts.user-account-changed"
    version = 1
    topic = CREDENTIALS.name
    aggregate_field = "user_id"

    user_id: str
    user_version: int = Field(ge=1, description="The record's version after this change.")
    origin: str = Field(description=_ORIGIN_DESCRIPTION)
    change: AccountChange
    email: str
    email_key: str = Field(description="What the address is compared by (strangler_identity).")
    display_name: str
    password_hash: str = Field(
        description="As stored: argon2id, or an older scheme (pbkdf2_sha256) until its owner "
        "next logs in at auth."
    )
    password_changed_at: datetime
    registered_at: datetime
