"""Billing ← the monolith's ``UserRegistered`` (on ``strangler.accounts``), as billing's
consumer reads it: a CloudEvent 1.0 envelope (strangler_contracts' ``CloudEvent`` forbids
attributes it does not know) whose data names the user, their email, display name and when
they registered. The monolith verifies it by registering a user through its API and handing
over the outbox row its relay would publish
(tests/contracts/providers/test_legacy_monolith_events.py).
"""

from __future__ import annotations

import pytest
from pact import Pact, match
from strangler_contracts import CloudEvent, UserRegistered
from strangler_contracts.registry import decode

from tests.contracts.pacts import pact_dir

USER_REGISTERED = "dev.strangler-fig.accounts.user-registered.v1"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


# Registration moves from the monolith to auth: billing reads the event from either producer.
PRODUCERS = [
    ("legacy-monolith-events", "/legacy-monolith", "a user registers at the monolith"),
    ("auth-events", "/auth", "a user registers at auth"),
]


@pytest.mark.parametrize(("producer", "source", "state"), PRODUCERS)
def test_billing_reads_a_registration_into_a_customer(
    producer: str, source: str, state: str
) -> None:
    pact = Pact("billing", producer).with_specification("V4")
    (
        pact.upon_receiving("a UserRegistered event", "Async")
        .given(state)
        .with_body(
            {
                "specversion": "1.0",
                "id": match.uuid("0f8fad5b-d9cb-469f-a165-70867728950e"),
                "source": source,
                "type": USER_REGISTERED,
                "time": match.regex("2026-01-01T00:00:00Z", regex=RFC3339),
                "subject": match.str("42"),
                "datacontenttype": "application/json",
                "data": {
                    "user_id": match.str("42"),
                    "email": match.str("ada@example.com"),
                    "display_name": match.str("Ada"),
                    "registered_at": match.regex("2026-01-01T00:00:00Z", regex=RFC3339),
                },
            },
            "application/json",
        )
    )
    received: list[UserRegistered] = []

    def billing_reads(body: str | bytes | None, metadata: dict[str, object]) -> None:
        # What billing's IdempotentConsumer does with a record's value before its handler.
        envelope = CloudEvent.model_validate_json(body or b"")
        event = decode(envelope)
        assert isinstance(event, UserRegistered)
        received.append(event)

    pact.verify(billing_reads, "Async")
    pact.write_file(pact_dir(), overwrite=True)
    assert [(e.user_id, e.email, e.display_name) for e in received] == [
        ("42", "ada@example.com", "Ada")
    ]
