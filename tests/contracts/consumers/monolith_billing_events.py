"""The monolith's billing events (``strangler.billing``, ``source`` /legacy-monolith): while
both sides serve billing, the monolith publishes every change of its billing records as the
billing service does, with the same contract, so billing's sync (``legacy_changes``: a
``SyncConsumer`` with ``BILLING_RECORDS``) and notifications' mails read them as they read
billing's own. The bodies are billing's (tests/contracts/consumers/
test_consumers_of_billings_events.py) as the monolith publishes them; the monolith verifies
by a subscription, a payment (approved and declined), a refund and a cancellation at the
real monolith against a real payment simulator
(tests/contracts/providers/test_legacy_monolith_events.py)."""

from __future__ import annotations

import copy
from typing import Any

from tests.contracts.consumers.test_consumers_of_billings_events import (
    ACL_PAYMENT_FAILED,
    ACL_PAYMENT_SUCCEEDED,
    ACL_REFUND_ISSUED,
    INVOICE_ISSUED,
    NOTIFICATIONS_SUBSCRIPTION_STARTED,
    PAYMENT_FAILED,
    PAYMENT_SUCCEEDED,
    REFUND_ISSUED,
    SUBSCRIPTION_CANCELLED,
    SUBSCRIPTION_STARTED,
)

__all__ = ["FOR_BILLINGS_SYNC", "FOR_NOTIFICATIONS"]

SUBSCRIBED = "a customer subscribes to a plan at the monolith"
PAID = "a customer pays an invoice at the monolith"
DECLINED = "a customer's card is declined at the monolith"
REFUNDED = "a customer's paid invoice is refunded at the monolith"
CANCELLED = "a customer cancels an unpaid subscription at the monolith"


def _at_the_monolith(body: dict[str, Any]) -> dict[str, Any]:
    made = copy.deepcopy(body)
    made["source"] = "/legacy-monolith"
    if "origin" in made["data"]:
        made["data"]["origin"] = "legacy-monolith"
    return made


# (description, state, body): each change billing's sync copies, with its versions.
FOR_BILLINGS_SYNC = [
    ("a SubscriptionStarted event", SUBSCRIBED, _at_the_monolith(SUBSCRIPTION_STARTED)),
    ("an InvoiceIssued event", SUBSCRIBED, _at_the_monolith(INVOICE_ISSUED)),
    ("a PaymentSucceeded event", PAID, _at_the_monolith(ACL_PAYMENT_SUCCEEDED)),
    ("a PaymentFailed event", DECLINED, _at_the_monolith(ACL_PAYMENT_FAILED)),
    ("a RefundIssued event", REFUNDED, _at_the_monolith(ACL_REFUND_ISSUED)),
    ("a SubscriptionCancelled event", CANCELLED, _at_the_monolith(SUBSCRIPTION_CANCELLED)),
]

# (state, (description, type, data, what notifications makes of it)), as
# test_notifications_consumes_mail_events.py declares the monolith's events.
FOR_NOTIFICATIONS = [
    (
        state,
        (description, body["type"], body["data"], made),
    )
    for description, state, body, made in [
        (
            "a SubscriptionStarted event",
            SUBSCRIBED,
            NOTIFICATIONS_SUBSCRIPTION_STARTED,
            "plan pro of sub-1",
        ),
        ("a PaymentSucceeded event", PAID, PAYMENT_SUCCEEDED, "payment_succeeded"),
        ("a PaymentFailed event", DECLINED, PAYMENT_FAILED, "payment_failed"),
        ("a RefundIssued event", REFUNDED, REFUND_ISSUED, "refund_issued"),
    ]
]
