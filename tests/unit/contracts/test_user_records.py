"""Accounts as records: what crosses between the monolith and auth, and what everyone sees."""

from __future__ import annotations

from datetime import UTC, datetime

from strangler_contracts import (
    ALL_EVENTS,
    PasswordChanged,
    UserAccountChanged,
    UserProfileChanged,
    UserRegistered,
)
from strangler_contracts.catalogue import participants
from strangler_contracts.topics import ACCOUNTS, CREDENTIALS
from strangler_contracts.user_records import USER_FIELDS, USER_RECORDS, USERS

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
HASH = "pbkdf2_sha256$600000$c2FsdA$aGFzaA=="


def _account(**changes: object) -> UserAccountChanged:
    values: dict[str, object] = {
        "user_id": "usr-1",
        "user_version": 2,
        "origin": "auth",
        "change": "password-changed",
        "email": "ada@example.com",
        "email_key": "ada@example.com",
        "display_name": "Ada",
        "password_hash": HASH,
        "password_changed_at": NOW,
        "registered_at": NOW,
    }
    return UserAccountChanged.model_validate(values | changes)


def test_an_account_change_carries_the_whole_record_so_it_can_create_or_replace_it() -> None:
    (change,) = USER_RECORDS.translate(_account(), "auth")

    assert change.entity == USERS
    assert (change.id, change.version, change.origin) == ("usr-1", 2, "auth")
    assert change.complete
    assert set(change.fields) == set(USER_FIELDS[USERS])
    assert change.fields["password_hash"] == HASH


def test_the_public_account_events_move_no_record() -> None:
    public = [
        UserRegistered(user_id="usr-1", email="a@example.com", display_name="A", registered_at=NOW),
        PasswordChanged(user_id="usr-1", changed_at=NOW, origin="auth"),
        UserProfileChanged(user_id="usr-1", display_name="B", changed_at=NOW, origin="auth"),
    ]

    assert all(USER_RECORDS.translate(event, "auth") == [] for event in public)


def test_no_event_anyone_else_reads_carries_a_password_hash() -> None:
    with_hashes = {e for e in ALL_EVENTS if "password_hash" in e.model_fields}

    assert with_hashes == {UserAccountChanged}
    assert UserAccountChanged.topic == CREDENTIALS.name
    assert set(participants(UserAccountChanged).consumers) == {"legacy-monolith", "auth"}
    assert all(event.topic != CREDENTIALS.name for event in set(ALL_EVENTS) - with_hashes)


def test_either_side_publishes_what_happens_to_an_account() -> None:
    for event in (UserRegistered, PasswordChanged, UserProfileChanged, UserAccountChanged):
        assert set(participants(event).producers) == {"legacy-monolith", "auth"}
    assert {PasswordChanged.topic, UserProfileChanged.topic, UserRegistered.topic} == {
        ACCOUNTS.name
    }
