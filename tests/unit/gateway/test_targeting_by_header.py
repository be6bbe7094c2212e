"""``X-Strangler-Target`` is honoured only with the targeting token."""

from __future__ import annotations

from strangler_flags import Target
from strangler_gateway.targeting import HeaderTargeting

TOKEN = "targeting-token"


def test_targeting_is_off_without_a_configured_token() -> None:
    head = {b"x-strangler-target": b"new", b"x-strangler-targeting-token": b""}

    assert HeaderTargeting(None).forced_target(head) is None
    assert HeaderTargeting("").forced_target(head) is None


def test_only_the_right_token_forces_a_side() -> None:
    targeting = HeaderTargeting(TOKEN)

    assert targeting.forced_target({b"x-strangler-target": b"new"}) is None
    wrong = {b"x-strangler-target": b"new", b"x-strangler-targeting-token": b"guess"}
    assert targeting.forced_target(wrong) is None
    right = {b"x-strangler-target": b" LEGACY ", b"x-strangler-targeting-token": TOKEN.encode()}
    assert targeting.forced_target(right) is Target.LEGACY


def test_an_unknown_side_forces_nothing() -> None:
    head = {b"x-strangler-target": b"sideways", b"x-strangler-targeting-token": TOKEN.encode()}

    assert HeaderTargeting(TOKEN).forced_target(head) is None
