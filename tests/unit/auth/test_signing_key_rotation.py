"""Key rotation, as the domain states it: nothing signs before it was published, and a
retired key stays published until the last token it signed has expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auth_service.domain.signing_keys import KeyState, SigningKey, rotate

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
TOKEN_LIFETIME = timedelta(minutes=15, seconds=5)


def _key(kid: str, state: KeyState) -> SigningKey:
    return SigningKey(kid=kid, private_key="-", public_key="-", state=state, created_at=NOW)


def test_a_rotation_signs_with_the_published_next_key_and_publishes_a_new_one() -> None:
    current, upcoming, fresh = (
        _key("a", KeyState.CURRENT), _key("b", KeyState.NEXT), _key("c", KeyState.NEXT)
    )  # fmt: skip

    rotate([current, upcoming], fresh, NOW, TOKEN_LIFETIME)

    assert (current.state, upcoming.state, fresh.state) == ("retired", "current", "next")
    assert upcoming.activated_at == NOW
    assert current.retire_after == NOW + TOKEN_LIFETIME


def test_a_retired_key_is_published_until_its_last_token_expired() -> None:
    current, upcoming = _key("a", KeyState.CURRENT), _key("b", KeyState.NEXT)

    rotate([current, upcoming], _key("c", KeyState.NEXT), NOW, TOKEN_LIFETIME)

    assert current.published(NOW + TOKEN_LIFETIME - timedelta(seconds=1))
    assert not current.published(NOW + TOKEN_LIFETIME)
    assert upcoming.published(NOW + timedelta(days=365))


def test_without_a_next_key_the_current_one_keeps_signing() -> None:
    current, fresh = _key("a", KeyState.CURRENT), _key("c", KeyState.NEXT)

    rotate([current], fresh, NOW, TOKEN_LIFETIME)

    assert (current.state, fresh.state) == ("current", "next")
    assert current.retire_after is None


def test_a_state_read_from_the_database_as_text_compares_equal() -> None:
    stored = _key("a", KeyState.CURRENT)
    stored.state = "current"  # type: ignore[assignment]  (what the ORM loads)

    rotate([stored, _key("b", KeyState.NEXT)], _key("c", KeyState.NEXT), NOW, TOKEN_LIFETIME)

    assert stored.state == KeyState.RETIRED
