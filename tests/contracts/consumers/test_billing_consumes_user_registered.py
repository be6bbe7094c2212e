"""Billing ← the accounts side's events (on ``strangler.accounts``), from the monolith and from
auth, as billing's consumer reads them (``entrypoints/consumer.py``, ``account_closure.py``):
a CloudEvent 1.0 envelope (strangler_contracts' ``CloudEvent`` forbids attributes it does not
know), decoded by the contracts' registry, then handed to billing's handler, which makes its
command of

- ``UserRegistered``: the customer (the user, their email, display name, when they
  registered; the envelope's ``source`` says which side);
- ``UserProfileChanged``: the customer's new name;
- ``AccountClosureRequested``: billing's part of the closure (its id, the user, when they
  asked, the attempt) — the refund of the unused part is computed from ``requested_at``;
- ``AccountClosed``: the closed account's address erased here too.

From the monolith, billing's sync (``bootstrap.legacy_changes``: a ``SyncConsumer`` with
``BILLING_RECORDS``, while both sides serve billing) also copies the monolith's billing
changes into its records — a subscription, an invoice, a payment (approved or declined), a
refund, a cancellation — with the monolith's versions, never taken for billing's own
(tests/contracts/consumers/monolith_billing_events.py).

Billing's choreography view (``entrypoints/choreography_view.py``) keeps the two closure
events by the envelope's ``correlationid`` (the closure's id): without it a closure cannot
be told, so billing relies on that attribute too.

The monolith and auth verify by a registration, a name changed, an account closed through
their APIs — the last one's ``AccountClosed`` once billing's and notifications' answers
reached them over a real broker — handing over the outbox rows they committed
(tests/contracts/providers/test_legacy_monolith_events.py, test_auth_events.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from billing_service.entrypoints import consumer
from billing_service.entrypoints.account_closure import closure_requests
from billing_service.service_layer import handlers as billing_handlers
from billing_service.service_layer.choreographies import account_closure_choreography
from pact import Pact, match
from strangler_contracts import (
    AccountClosed,
    CloudEvent,
    IntegrationEvent,
    UserProfileChanged,
    UserRegistered,
)
from strangler_contracts.records import BILLING_RECORDS, RecordChange
from strangler_contracts.registry import decode
from strangler_eventing import EventHandler
from strangler_migration.conflicts import Side

from tests.contracts.consumers.closure_answers import cloud_event, when
from tests.contracts.consumers.monolith_billing_events import FOR_BILLINGS_SYNC
from tests.contracts.pacts import pact_dir

EVENT_TYPE = "dev.strangler-fig.accounts.{}.v1"
WATCHED = account_closure_choreography(deadline_seconds=300)


def _interactions(side: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(description, state, event type, data) of each event billing reads from ``side``."""
    return [
        (
            "a UserRegistered event",
            f"a user registers at {side}",
            "user-registered",
            {
                "user_id": match.str("42"),
                "email": match.str("ada@example.com"),
                "display_name": match.str("Ada"),
                "registered_at": when(),
            },
        ),
        (
            "a UserProfileChanged event",
            f"a user changes their name at {side}",
            "user-profile-changed",
            {
                "user_id": match.str("42"),
                "display_name": match.str("Ada L."),
                "changed_at": when(),
                "origin": match.str("legacy-monolith"),
            },
        ),
        (
            "an AccountClosureRequested event",
            f"a user closes their account at {side}",
            "account-closure-requested",
            {
                "closure_id": match.str("c-1"),
                "user_id": match.str("42"),
                "email": match.str("ada@example.com"),
                "display_name": match.str("Ada"),
                "requested_at": when(),
                "attempt": match.int(1),
            },
        ),
        (
            "an AccountClosed event",
            f"a user's account is closed at {side}",
            "account-closed",
            {"closure_id": match.str("c-1"), "user_id": match.str("42"), "closed_at": when()},
        ),
    ]


# Registration moves from the monolith to auth: billing reads the events from either producer.
PRODUCERS = [
    ("legacy-monolith-events", "/legacy-monolith", "the monolith", FOR_BILLINGS_SYNC),
    ("auth-events", "/auth", "auth", []),
]


class BillingPart:
    """Where billing's consumer starts its part of a closure: here, kept."""

    def __init__(self) -> None:
        self.started: list[dict[str, object]] = []

    async def start_account_closure(self, **part: object) -> None:
        self.started.append(part)


@pytest.mark.parametrize(("producer", "source", "side", "synced"), PRODUCERS)
def test_billing_reads_the_accounts_events_into_its_customers(
    producer: str,
    source: str,
    side: str,
    synced: list[tuple[str, str, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pact = Pact("billing", producer).with_specification("V4")
    for description, state, event_type, data in _interactions(side):
        body = cloud_event(source, EVENT_TYPE.format(event_type), data)
        if "closure_id" in data:  # the choreography view's key
            body["correlationid"] = match.str("c-1")
        pact.upon_receiving(description, "Async").given(state).with_body(body, "application/json")
    for description, state, body in synced:
        pact.upon_receiving(description, "Async").given(state).with_body(body, "application/json")
    billing = Side("billing")
    copied: list[RecordChange] = []
    commands: dict[str, tuple[object, ...]] = {}

    def keeping(handler: str) -> Any:
        async def kept(*arguments: object) -> None:  # the command, without the unit of work
            commands[handler] = arguments[:-1]

        return kept

    for handler in ("add_customer", "rename_customer", "forget_customer_email"):
        monkeypatch.setattr(billing_handlers, handler, keeping(handler))
    part = BillingPart()
    watched: list[tuple[str, str | None]] = []
    handlers: dict[type[IntegrationEvent], EventHandler] = {
        UserRegistered: consumer.add_registered_customer,
        UserProfileChanged: consumer.rename_customer,
        AccountClosed: consumer.forget_closed_account,
        **closure_requests(lambda: part),  # type: ignore[arg-type, return-value]  # kept here
    }

    def billing_reads(body: str | bytes | None, metadata: dict[str, object]) -> None:
        # What billing's IdempotentConsumer does with a record's value: decode, then the
        # handler of its type, in the consumer's transaction (none here).
        envelope = CloudEvent.model_validate_json(body or b"")
        event = decode(envelope)
        if isinstance(event, BILLING_RECORDS.events):  # billing's sync of the monolith's
            declared = getattr(event, "origin", None)
            assert not billing.made(envelope, declared), "billing would skip it as its own"
            copied.extend(BILLING_RECORDS.translate(event, billing.origin_of(envelope, declared)))
            return
        if event.name in WATCHED.events:
            watched.append((event.name, envelope.correlationid))
        asyncio.run(handlers[type(event)](None, event, envelope))  # type: ignore[arg-type]

    pact.verify(billing_reads, "Async")
    pact.write_file(pact_dir(), overwrite=True)
    [added], [renamed] = commands["add_customer"], commands["rename_customer"]
    assert (added.customer_id, added.email, added.name, added.origin) == (  # type: ignore[attr-defined]
        "42",
        "ada@example.com",
        "Ada",
        source.strip("/"),
    )
    assert (renamed.customer_id, renamed.name) == ("42", "Ada L.")  # type: ignore[attr-defined]
    assert commands["forget_customer_email"] == ("42", "closed-42@closed.invalid")
    assert sorted(watched) == [
        ("accounts.account-closed", "c-1"),
        ("accounts.account-closure-requested", "c-1"),
    ]
    assert sorted((c.entity, c.fields.get("status", "-"), c.complete) for c in copied) == (
        [
            ("invoices", "open", False),  # its payment declined
            ("invoices", "open", True),
            ("invoices", "paid", False),
            ("invoices", "refunded", False),
            ("invoices", "void", False),
            ("payments", "failed", True),
            ("payments", "succeeded", True),
            ("refunds", "-", True),
            ("subscriptions", "-", False),  # the invoice's period
            ("subscriptions", "active", True),
            ("subscriptions", "cancelled", False),
        ]
        if synced
        else []
    )
    assert {c.origin for c in copied} <= {"legacy-monolith"}
    [started] = part.started
    assert (started["closure_id"], started["customer_id"], started["attempt"]) == ("c-1", "42", 1)
