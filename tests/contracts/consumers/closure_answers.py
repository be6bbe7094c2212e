"""The answers to an account closure, as the accounts sides read them (``strangler_closures``:
the monolith's ``account_closure`` consumer and auth's, one mechanism), for the consumer
tests of every pair that carries them.

Billing answers ``BillingClosedForAccount`` or ``AccountClosureRefundDeclined``,
notifications ``FarewellSentAndDataErased``. An accounts side decodes each with the contracts'
registry (every field the event requires, or it is a dead letter), takes it as one of its
``ANSWERS`` and folds it into the closure of its ``closure_id``: billing's refund (amount,
currency), a refund declined (the provider's words, which the paused closure shows), the
instants it orders its updates by. Billing's and notifications' verifications produce them
through their real paths (tests/contracts/providers/test_billing_events.py,
test_notifications_events.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pact import match
from strangler_closures import Closure, fold
from strangler_closures.accounts_side import ANSWERS
from strangler_contracts import CloudEvent
from strangler_contracts.records import RecordChange
from strangler_contracts.registry import decode
from strangler_migration.conflicts import Side

__all__ = [
    "BILLING_ANSWERS",
    "NOTIFICATIONS_ANSWERS",
    "RFC3339",
    "AccountsSideFolds",
    "cloud_event",
    "when",
]

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
CLOSURE_ID = "0f8fad5b-d9cb-469f-a165-70867728950f"

CLOSED_AT_BILLING = "a paying customer closes their account at billing"
REFUND_DECLINED_AT_BILLING = "a customer whose card refuses refunds closes their account at billing"
FAREWELL_AT_NOTIFICATIONS = "billing is done with a closing account at notifications"


def when(example: str = "2026-01-01T00:00:00Z") -> object:
    return match.regex(example, regex=RFC3339)


def cloud_event(source: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """A CloudEvent 1.0 envelope with only the attributes ``CloudEvent`` knows."""
    return {
        "specversion": "1.0",
        "id": match.uuid("0f8fad5b-d9cb-469f-a165-70867728950e"),
        "source": source,
        "type": event_type,
        "time": when(),
        "subject": match.str("42"),
        "datacontenttype": "application/json",
        "data": data,
    }


BILLING_CLOSED_FOR_ACCOUNT = cloud_event(
    "/billing",
    "dev.strangler-fig.billing.billing-closed-for-account.v1",
    {
        "closure_id": match.str(CLOSURE_ID),
        "user_id": match.str("42"),
        "cancelled_subscription_id": match.str("sub-1"),
        "refund_id": match.str("ref-1"),
        "refunded_cents": match.int(2850),
        "currency": match.str("EUR"),
        "closed_at": when(),
    },
)
ACCOUNT_CLOSURE_REFUND_DECLINED = cloud_event(
    "/billing",
    "dev.strangler-fig.billing.account-closure-refund-declined.v1",
    {
        "closure_id": match.str(CLOSURE_ID),
        "user_id": match.str("42"),
        "subscription_id": match.str("sub-1"),
        "invoice_id": match.str("inv-1"),
        "amount_cents": match.int(2850),
        "currency": match.str("EUR"),
        "reason": match.str("The card's issuer declined the refund."),
        "declined_at": when(),
    },
)
FAREWELL_SENT_AND_DATA_ERASED = cloud_event(
    "/notifications",
    "dev.strangler-fig.notifications.farewell-sent-and-data-erased.v1",
    {
        "closure_id": match.str(CLOSURE_ID),
        "user_id": match.str("42"),
        "farewell_message_id": match.str("<farewell-1@notifications.strangler-fig.dev>"),
        "erased_records": match.int(3),
        "erased_at": when(),
    },
)

# (description, provider state, body) of each answer, as billing-events and
# notifications-events verify them.
BILLING_ANSWERS = [
    ("a BillingClosedForAccount event", CLOSED_AT_BILLING, BILLING_CLOSED_FOR_ACCOUNT),
    (
        "an AccountClosureRefundDeclined event",
        REFUND_DECLINED_AT_BILLING,
        ACCOUNT_CLOSURE_REFUND_DECLINED,
    ),
]
NOTIFICATIONS_ANSWERS = [
    (
        "a FarewellSentAndDataErased event",
        FAREWELL_AT_NOTIFICATIONS,
        FAREWELL_SENT_AND_DATA_ERASED,
    ),
]


class AccountsSideFolds:
    """An accounts side reading answers: each decoded, taken as an answer and folded into
    a requested closure of its closure id; ``folded`` keeps the closures it made."""

    def __init__(self) -> None:
        self.folded: list[Closure] = []

    def reads(self, body: str | bytes | None) -> bool:
        """Folds ``body`` if it is an answer to a closure; False for any other event."""
        event = decode(CloudEvent.model_validate_json(body or b""))
        if not isinstance(event, ANSWERS):
            return False
        requested = datetime(2025, 12, 31, tzinfo=UTC)
        closure = Closure.requested(event.closure_id, event.user_id, requested)
        self.folded.append(fold(closure, event))
        return True

    def __call__(self, body: str | bytes | None, metadata: dict[str, object]) -> None:
        assert self.reads(body), "not an answer to an account closure"

    def outcomes(self) -> list[tuple[object, ...]]:
        """(status, billing, notifications, refunded cents, currency, declined reason) of
        each closure folded, sorted."""
        return sorted(
            (
                (
                    c.status,
                    c.billing,
                    c.notifications,
                    c.refunded_cents,
                    c.currency,
                    c.declined_reason,
                )
                for c in self.folded
            ),
            key=repr,
        )


class MonolithAcl:
    """The monolith's anti-corruption layer reading another capability's events: an answer
    to a closure goes to its accounts side (``closures``), any other event is translated
    into record changes (``changes``) with the origin the monolith's sync gives it —
    never taken for the monolith's own."""

    def __init__(self, translate: Callable[[Any, str], Iterable[RecordChange]]) -> None:
        self.translate = translate
        self.side = Side("legacy-monolith")
        self.changes: list[RecordChange] = []
        self.closures = AccountsSideFolds()

    def __call__(self, body: str | bytes | None, metadata: dict[str, object]) -> None:
        if self.closures.reads(body):
            return
        envelope = CloudEvent.model_validate_json(body or b"")
        event = decode(envelope)
        declared = getattr(event, "origin", None)
        assert not self.side.made(envelope, declared), "the monolith would skip it as its own"
        self.changes.extend(self.translate(event, self.side.origin_of(envelope, declared)))
