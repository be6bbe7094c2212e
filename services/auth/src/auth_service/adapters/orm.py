"""Auth's tables, and the mapping of the domain's classes onto them.

``users`` keeps the monolith's column names and sizes where they mean the same (``id``,
``email``, ``email_key``, ``name``, ``password_hash``, ``password_changed_at``,
``created_at``), so the data migration copies a user column for column; ``updated_at``,
``origin`` and ``version`` are what a record synced both ways carries (``version`` is
SQLAlchemy's version counter: an update made from an outdated read fails).

A refresh token is stored as the SHA-256 of its value only: a copy of the database gives
nobody a usable token. A signing key's private half is stored here too (its raw bytes, base64url):
whoever reads this database can sign tokens, so it is guarded like the password hashes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, event, inspect
from sqlalchemy.orm import object_session, registry
from strangler_closures import account_closures_table
from strangler_eventing import inbox_table, outbox_table
from strangler_migration import checkpoint_table
from strangler_persistence import UTCDateTime

from auth_service.domain.records import AUTH
from auth_service.domain.sessions import RefreshToken
from auth_service.domain.signing_keys import SigningKey
from auth_service.domain.throttling import LoginThrottle
from auth_service.domain.users import User

__all__ = [
    "account_closures",
    "checkpoints",
    "inbox",
    "login_throttles",
    "metadata",
    "outbox",
    "refresh_tokens",
    "signing_keys",
    "start_mappers",
    "users",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
_mappers = registry(metadata=metadata)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("email_key", String(320), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("password_changed_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("origin", String(40), nullable=False),
    Column("version", Integer, nullable=False),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", String(36), nullable=False, index=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("access_token_id", String(64), nullable=False, index=True),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_key", Text, nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("state", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("activated_at", UTCDateTime(), nullable=True),
    Column("retire_after", UTCDateTime(), nullable=True),
    Index("ix_signing_keys_state", "state"),
)

login_throttles = Table(
    "login_throttles",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", UTCDateTime(), nullable=False),
)


outbox = outbox_table(metadata)
"""What auth publishes: each account change, in the change's transaction (``account_events``)."""
inbox = inbox_table(metadata)
"""The events the sync of the monolith's account changes has applied."""
checkpoints = checkpoint_table(metadata)
"""How far the backfill from the monolith's export got."""
account_closures = account_closures_table(metadata)
"""The accounts side of closing an account (``strangler_closures``): one closure per user."""


def _made_here(_mapper: Any, _connection: Any, user: User) -> None:
    """A change made through the domain is auth's: the record's origin says so. (The other
    side's changes are written with plain SQL by the sync and keep theirs.)"""
    session = object_session(user)
    if session is not None and session.is_modified(user, include_collections=False):
        user.origin = AUTH


def start_mappers() -> None:
    """Map the domain's classes onto the tables; once per process, later calls do nothing."""
    if inspect(User, raiseerr=False) is not None:
        return
    _mappers.map_imperatively(User, users, version_id_col=users.c.version)
    _mappers.map_imperatively(RefreshToken, refresh_tokens)
    _mappers.map_imperatively(SigningKey, signing_keys)
    _mappers.map_imperatively(LoginThrottle, login_throttles)
    event.listen(User, "before_update", _made_here)
