"""The version rule of the two-way sync, and how a side tells its own changes from the other's."""

from __future__ import annotations

import pytest
from strangler_contracts import CloudEvent
from strangler_contracts.records import BILLING_PRECEDENCE
from strangler_migration import Side, Stamp, incoming_wins

LEGACY, BILLING = BILLING_PRECEDENCE


def test_a_record_this_side_does_not_hold_is_always_taken() -> None:
    assert incoming_wins(None, Stamp(1, BILLING), BILLING_PRECEDENCE)


@pytest.mark.parametrize(
    ("local", "incoming"),
    [(Stamp(2, LEGACY), Stamp(3, BILLING)), (Stamp(2, BILLING), Stamp(5, LEGACY))],
    ids=["billing-newer", "legacy-newer"],
)
def test_the_higher_version_wins_whichever_side_made_it(local: Stamp, incoming: Stamp) -> None:
    assert incoming_wins(local, incoming, BILLING_PRECEDENCE)
    assert not incoming_wins(incoming, local, BILLING_PRECEDENCE)


def test_the_same_version_from_the_same_side_is_the_same_change_again() -> None:
    assert not incoming_wins(Stamp(4, BILLING), Stamp(4, BILLING), BILLING_PRECEDENCE)


def test_the_same_version_made_on_both_sides_goes_to_the_monolith() -> None:
    assert incoming_wins(Stamp(2, BILLING), Stamp(2, LEGACY), BILLING_PRECEDENCE)
    assert not incoming_wins(Stamp(2, LEGACY), Stamp(2, BILLING), BILLING_PRECEDENCE)


def test_swapping_the_precedence_hands_ties_to_billing() -> None:
    billing_first = (BILLING, LEGACY)

    assert incoming_wins(Stamp(2, LEGACY), Stamp(2, BILLING), billing_first)


def _envelope(source: str) -> CloudEvent:
    return CloudEvent(source=source, type="dev.strangler-fig.billing.x.v1", subject="s", data={})


def test_a_side_recognises_its_own_changes_by_their_origin_else_by_their_source() -> None:
    billing = Side(BILLING)

    assert billing.made(_envelope("/billing"), None)
    assert billing.made(_envelope("/relay"), BILLING)
    assert not billing.made(_envelope("/legacy-monolith"), None)
    assert not billing.made(_envelope("/billing"), LEGACY)
