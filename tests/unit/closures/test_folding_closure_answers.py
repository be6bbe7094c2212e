"""The accounts side's rule for a closure, pure (``strangler_closures.fold``): each answer by
closure id, a declined refund pauses, billing's ``done`` after a pause takes the closure up,
a closed closure changes no more, and the account may go once both said ``done``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strangler_closures import Closure, fold
from strangler_contracts import (
    AccountClosureRefundDeclined,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
)

ASKED = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _closure(**changes: object) -> Closure:
    values: dict[str, object] = {
        "id": "closure-1",
        "user_id": "user-1",
        "status": "requested",
        "billing": None,
        "notifications": None,
        "refunded_cents": None,
        "currency": None,
        "declined_reason": None,
        "attempt": 1,
        "requested_at": ASKED,
        "updated_at": ASKED,
        "closed_at": None,
    }
    return Closure(**(values | changes))  # type: ignore[arg-type]


def _billed(after: float = 1) -> BillingClosedForAccount:
    return BillingClosedForAccount(
        closure_id="closure-1",
        user_id="user-1",
        cancelled_subscription_id="sub-1",
        refund_id="re-1",
        refunded_cents=1450,
        currency="EUR",
        closed_at=ASKED + timedelta(seconds=after),
    )


def _declined() -> AccountClosureRefundDeclined:
    return AccountClosureRefundDeclined(
        closure_id="closure-1",
        user_id="user-1",
        subscription_id="sub-1",
        invoice_id="inv-1",
        amount_cents=1450,
        currency="EUR",
        reason="The issuer declined the refund.",
        declined_at=ASKED + timedelta(seconds=1),
    )


def _farewell() -> FarewellSentAndDataErased:
    return FarewellSentAndDataErased(
        closure_id="closure-1",
        user_id="user-1",
        farewell_message_id="<farewell@test>",
        erased_records=2,
        erased_at=ASKED + timedelta(seconds=2),
    )


def test_both_answers_done_confirm_the_closure_in_either_order() -> None:
    billed_first = fold(fold(_closure(), _billed()), _farewell())
    farewell_first = fold(fold(_closure(), _farewell()), _billed())

    assert billed_first.confirmed
    assert farewell_first.confirmed
    assert (billed_first.refunded_cents, billed_first.currency) == (1450, "EUR")
    assert billed_first.updated_at == ASKED + timedelta(seconds=2)
    assert not fold(_closure(), _billed()).confirmed


def test_an_answer_heard_twice_changes_nothing_more() -> None:
    once = fold(_closure(), _billed())

    assert fold(once, _billed()) == once


def test_a_declined_refund_pauses_and_billing_done_after_a_resume_takes_it_up() -> None:
    paused = fold(_closure(), _declined())
    resumed = fold(_closure(attempt=2, updated_at=paused.updated_at), _billed(after=5))

    assert (paused.status, paused.billing, paused.declined_reason) == (
        "paused",
        "declined",
        "The issuer declined the refund.",
    )
    assert not paused.confirmed
    assert (resumed.status, resumed.billing, resumed.declined_reason) == ("requested", "done", None)


def test_a_closed_closure_changes_no_more() -> None:
    closed = _closure(status="closed", billing="done", notifications="done")

    assert fold(closed, _declined()) == closed
