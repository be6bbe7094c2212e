"""Billing's choreography view (``entrypoints/choreography_view.py``, for
``strangler sagas``) ← notifications' ``FarewellSentAndDataErased``: decoded by the
contracts' registry and kept by the envelope's ``correlationid`` — the closure it belongs to,
without which the view cannot tell it — as the notifications participant's ``done``.

Notifications verifies by billing's answer to a closure given to a real notifications
process over a real broker: the farewell handed to a real SMTP sink, the user's data erased
(tests/contracts/providers/test_notifications_events.py).
"""

from __future__ import annotations

from billing_service.service_layer.choreographies import account_closure_choreography
from pact import Pact, match
from strangler_contracts import CloudEvent
from strangler_contracts.registry import decode

from tests.contracts.consumers.closure_answers import NOTIFICATIONS_ANSWERS
from tests.contracts.pacts import pact_dir


def test_billings_view_keeps_the_farewell_by_its_closure() -> None:
    pact = Pact("billing", "notifications-events").with_specification("V4")
    for description, state, body in NOTIFICATIONS_ANSWERS:
        kept_by_closure = {**body, "correlationid": match.str("c-1")}
        (
            pact.upon_receiving(description, "Async")
            .given(state)
            .with_body(kept_by_closure, "application/json")
        )
    view = account_closure_choreography(deadline_seconds=300)
    answers = {name: answer for p in view.participants for name, answer in p.answers.items()}
    seen: list[tuple[str, str | None, str]] = []

    def billing_watches(body: str | bytes | None, metadata: dict[str, object]) -> None:
        envelope = CloudEvent.model_validate_json(body or b"")
        event = decode(envelope)
        assert event.name in view.events
        seen.append((answers[event.name], envelope.correlationid, envelope.subject))

    pact.verify(billing_watches, "Async")
    pact.write_file(pact_dir(), overwrite=True)
    assert seen == [("done", "c-1", "42")]
