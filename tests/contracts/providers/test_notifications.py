"""Notifications honours every pact that names it: the ``strangler`` command's (its records as
``strangler migrate notifications`` reads them, and the backfill's step).

The provider is the real ``notifications-service`` process on SQLite, no broker and no mail
sent (relay, consumer, sync and sender off); behind it runs a real monolith, whose export the
backfill reads. The preferences the records' state needs are a user's choice made through
notifications' own API; the records the requests name are those its export answers first.
"""

from __future__ import annotations

from pathlib import Path

from tests.contracts.providers.monolith_state import (
    JWT_SECRET,
    OPERATOR_TOKEN,
    first_record_ids,
    monolith_process,
    register_customer,
)
from tests.contracts.providers.notifications_state import choose_emails
from tests.contracts.verification import Verification, provider_process, verify

USER_ID, EMAIL = "42", "ada@example.com"


def test_notifications_honours_its_consumers(tmp_path: Path) -> None:
    with monolith_process(tmp_path) as monolith:
        verification = _verify_notifications(tmp_path, monolith.url)
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 6


def _verify_notifications(tmp_path: Path, monolith_url: str) -> Verification:
    """Notifications pointed at the monolith at ``monolith_url``, every pact naming it
    replayed."""
    settings = {
        "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}",
        "NOTIFICATIONS_JWT_SECRET": JWT_SECRET,
        "NOTIFICATIONS_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "NOTIFICATIONS_MONOLITH_URL": monolith_url,
        "NOTIFICATIONS_OUTBOX_RELAY_ENABLED": "false",
        "NOTIFICATIONS_CONSUMER_ENABLED": "false",
        "NOTIFICATIONS_LEGACY_SYNC_ENABLED": "false",
        "NOTIFICATIONS_SENDER_ENABLED": "false",
    }
    operator = {"operator_token": OPERATOR_TOKEN}
    with provider_process(
        "notifications", "notifications-service", settings, tmp_path, prepare=True
    ) as notifications:

        def chosen_emails() -> dict[str, object]:
            choose_emails(notifications.url, USER_ID, EMAIL)
            exports = {"notifications": ["preferences"]}
            return {**operator, **first_record_ids(notifications.url, exports)}

        def a_customer_at_the_monolith() -> dict[str, object]:
            register_customer(monolith_url)
            return operator

        return verify(
            "notifications",
            notifications.url,
            states={
                "a user has chosen their e-mails at notifications": chosen_emails,
                "one customer is registered at the monolith behind notifications": (
                    a_customer_at_the_monolith
                ),
            },
        )
