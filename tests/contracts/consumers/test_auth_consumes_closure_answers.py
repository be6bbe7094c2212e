"""Auth as the accounts side of an account closure (``entrypoints/closure.py``: the consumer
``AccountsSide.answers`` of ``strangler_closures``) reads billing's answers
(``BillingClosedForAccount``, ``AccountClosureRefundDeclined``) and notifications'
(``FarewellSentAndDataErased``) into the closure they name — the same reading as the
monolith's (tests/contracts/consumers/closure_answers.py).

Billing verifies by closing the account of a paying customer at a real billing process
(``AccountClosureRequested`` over the broker, the refund at a real payment simulator, and a
card whose refunds are declined); notifications by billing's ``done`` given to a real
notifications process over the broker, the farewell handed to a real SMTP sink.
"""

from __future__ import annotations

from pact import Pact

from tests.contracts.consumers.closure_answers import (
    BILLING_ANSWERS,
    NOTIFICATIONS_ANSWERS,
    AccountsSideFolds,
)
from tests.contracts.pacts import pact_dir

REASON = "The card's issuer declined the refund."


def test_auth_folds_billings_answers_into_its_closures() -> None:
    pact = Pact("auth", "billing-events").with_specification("V4")
    for description, state, body in BILLING_ANSWERS:
        pact.upon_receiving(description, "Async").given(state).with_body(body, "application/json")
    side = AccountsSideFolds()

    pact.verify(side, "Async")
    pact.write_file(pact_dir(), overwrite=True)
    assert side.outcomes() == [
        ("paused", "declined", None, None, None, REASON),
        ("requested", "done", None, 2850, "EUR", None),
    ]


def test_auth_folds_notifications_farewell_into_its_closures() -> None:
    pact = Pact("auth", "notifications-events").with_specification("V4")
    for description, state, body in NOTIFICATIONS_ANSWERS:
        pact.upon_receiving(description, "Async").given(state).with_body(body, "application/json")
    side = AccountsSideFolds()

    pact.verify(side, "Async")
    pact.write_file(pact_dir(), overwrite=True)
    assert side.outcomes() == [("requested", None, "done", None, None, None)]
