"""Which side sends the mail an event causes: what the event says, else who published it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from strangler_contracts import UserRegistered, encode, who_sends_mail
from strangler_contracts.mail import LEGACY_MONOLITH_SOURCE

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _registered(mail_sent_by: str | None = None) -> UserRegistered:
    return UserRegistered.model_validate(
        {
            "user_id": "u1",
            "email": "ada@example.com",
            "display_name": "Ada",
            "registered_at": NOW,
            "mail_sent_by": mail_sent_by,
        }
    )


@pytest.mark.parametrize("source", [LEGACY_MONOLITH_SOURCE, "/auth"])
@pytest.mark.parametrize("marked", ["legacy", "new"])
def test_a_marked_event_is_sent_by_the_side_it_names(source: str, marked: str) -> None:
    event = _registered(marked)

    assert who_sends_mail(encode(event, source=source)) == marked


def test_an_unmarked_monolith_event_was_mailed_inline_and_a_services_is_sent_by_new() -> None:
    event = _registered()

    assert who_sends_mail(encode(event, source=LEGACY_MONOLITH_SOURCE)) == "legacy"
    assert who_sends_mail(encode(event, source="/auth")) == "new"


def test_an_unknown_side_is_refused_by_the_contract() -> None:
    with pytest.raises(ValueError, match="mail_sent_by"):
        _registered("both")
