"""The two sides holding credentials ← each other's ``UserAccountChanged`` (on
``strangler.credentials``), as their sync applies it: a CloudEvent 1.0 envelope, decoded by
the contracts' registry, turned by ``USER_RECORDS`` (``user_record_changes``) into one
complete change of the ``users`` record — every field of ``USER_FIELDS``, the version and
the side that made it.

- the monolith ← auth: an account registered (or changed) at auth, which the monolith's sync
  applies while it still serves logins;
- auth ← the monolith: an account registered at the monolith, which auth's sync copies.

Each producer verifies by a registration through its API and the outbox row it committed
(tests/contracts/providers/test_auth_events.py, test_legacy_monolith_events.py).
"""

from __future__ import annotations

import pytest
from pact import Pact, match
from strangler_contracts import CloudEvent
from strangler_contracts.records import RecordChange
from strangler_contracts.registry import decode
from strangler_contracts.user_records import USER_FIELDS, USER_RECORDS, USERS
from strangler_migration.conflicts import Side

from tests.contracts.pacts import pact_dir

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
WHEN = "2026-01-01T00:00:00Z"
USER_ACCOUNT_CHANGED = "dev.strangler-fig.accounts.user-account-changed.v1"

# consumer, producer, the producer's source and origin, the state its verification sets.
PAIRS = [
    ("legacy-monolith", "auth-events", "/auth", "auth", "a user registers at auth"),
    (
        "auth",
        "legacy-monolith-events",
        "/legacy-monolith",
        "legacy-monolith",
        "a user registers at the monolith",
    ),
]


@pytest.mark.parametrize(("consumer", "producer", "source", "origin", "state"), PAIRS)
def test_the_sync_reads_an_account_into_a_complete_record(
    consumer: str, producer: str, source: str, origin: str, state: str
) -> None:
    pact = Pact(consumer, producer).with_specification("V4")
    (
        pact.upon_receiving("a UserAccountChanged event", "Async")
        .given(state)
        .with_body(
            {
                "specversion": "1.0",
                "id": match.uuid("0f8fad5b-d9cb-469f-a165-70867728950e"),
                "source": source,
                "type": USER_ACCOUNT_CHANGED,
                "time": match.regex(WHEN, regex=RFC3339),
                "subject": match.str("42"),
                "datacontenttype": "application/json",
                "data": {
                    "user_id": match.str("42"),
                    "user_version": match.int(1),
                    "origin": origin,
                    "change": match.regex(
                        "registered",
                        regex=r"^(registered|password-changed|password-rehashed|profile-changed)$",
                    ),
                    "email": match.str("ada@example.com"),
                    "email_key": match.str("ada@example.com"),
                    "display_name": match.str("Ada"),
                    "password_hash": match.str("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"),
                    "password_changed_at": match.regex(WHEN, regex=RFC3339),
                    "registered_at": match.regex(WHEN, regex=RFC3339),
                },
            },
            "application/json",
        )
    )
    applied: list[RecordChange] = []

    side = Side(consumer)

    def the_sync_reads(body: str | bytes | None, metadata: dict[str, object]) -> None:
        # What the consumer's SyncConsumer does before it applies a change by the version rule.
        envelope = CloudEvent.model_validate_json(body or b"")
        event = decode(envelope)
        declared = getattr(event, "origin", None)
        assert not side.made(envelope, declared), "the consumer would skip it as its own"
        applied.extend(USER_RECORDS.translate(event, side.origin_of(envelope, declared)))

    pact.verify(the_sync_reads, "Async")
    pact.write_file(pact_dir(), overwrite=True)
    [change] = applied
    assert (change.entity, change.id, change.version, change.origin) == (USERS, "42", 1, origin)
    assert change.complete
    assert set(change.fields) == set(USER_FIELDS[USERS])
