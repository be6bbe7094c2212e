"""The choreographies billing watches for operators: who takes part in closing an account,
what each one's events mean, and whose answers each one waits for.

Billing is one participant of the closure and also keeps the operators' view of it (beside
its own sagas, so `strangler sagas` asks one place). The view watches only the contract
events — it learns nothing from billing's insides — and would work the same in any
deployable that consumes the three topics.
"""

from __future__ import annotations

from strangler_contracts import (
    AccountClosed,
    AccountClosureRefundDeclined,
    AccountClosureRequested,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
)
from strangler_sagas import ChoreographyDefinition, Participant
from strangler_sagas.choreography import Answer

__all__ = ["ACCOUNT_CLOSURE", "account_closure_choreography"]

ACCOUNT_CLOSURE = "account-closure"


def account_closure_choreography(deadline_seconds: float) -> ChoreographyDefinition:
    """Billing answers the request, notifications says farewell once billing is done, and
    the accounts side (the monolith today, auth once it publishes events) closes once both
    are. Each may take ``deadline_seconds`` once due before the closure shows as stuck."""
    billing_answers: dict[str, Answer] = {
        BillingClosedForAccount.name: "done",
        AccountClosureRefundDeclined.name: "declined",
    }
    notifications_answers: dict[str, Answer] = {FarewellSentAndDataErased.name: "done"}
    return ChoreographyDefinition(
        ACCOUNT_CLOSURE,
        started_by=AccountClosureRequested.name,
        participants=(
            Participant("billing", billing_answers, deadline_seconds),
            Participant(
                "notifications", notifications_answers, deadline_seconds, after=("billing",)
            ),
            Participant(
                "accounts",
                {AccountClosed.name: "done"},
                deadline_seconds,
                after=("billing", "notifications"),
            ),
        ),
        finished_by=AccountClosed.name,
        personal=frozenset({"email", "display_name"}),
    )
