"""decide(): modes, targeting, the kill switch and the reasons shown to users."""

from __future__ import annotations

import pytest
from strangler_flags import Mode, RequestFacts, RouteFlag, Target, bucket_of, decide

ANYONE = RequestFacts(user_key="user-anyone")


def _key_in_bucket(predicate: str) -> str:
    wanted_low = predicate == "low"
    for n in range(10_000):
        key = f"user-{n}"
        if (bucket_of(key) < 10) == wanted_low:
            return key
    raise AssertionError("no such user")


@pytest.mark.parametrize(
    ("mode", "target", "reason"),
    [
        (Mode.LEGACY, Target.LEGACY, "flag:legacy"),
        (Mode.SHADOW, Target.LEGACY, "flag:shadow"),
        (Mode.NEW, Target.NEW, "flag:new"),
    ],
)
def test_each_mode_serves_from_its_side(mode: Mode, target: Target, reason: str) -> None:
    decision = decide(RouteFlag(mode=mode), False, ANYONE)

    assert decision.target is target
    assert decision.reason == reason


def test_canary_sends_users_below_the_percentage_to_new_and_names_their_bucket() -> None:
    low, high = _key_in_bucket("low"), _key_in_bucket("high")
    flag = RouteFlag(mode=Mode.CANARY, percent=10)

    on_low = decide(flag, False, RequestFacts(user_key=low))
    on_high = decide(flag, False, RequestFacts(user_key=high))

    assert on_low.target is Target.NEW
    assert on_low.reason == f"flag:canary-bucket-{bucket_of(low)}"
    assert on_high.target is Target.LEGACY
    assert on_high.reason == f"flag:canary-bucket-{bucket_of(high)}"


def test_canary_at_zero_and_hundred_percent_is_all_legacy_and_all_new() -> None:
    users = [RequestFacts(user_key=f"user-{n}") for n in range(500)]

    assert {decide(RouteFlag(Mode.CANARY, 0), False, u).target for u in users} == {Target.LEGACY}
    assert {decide(RouteFlag(Mode.CANARY, 100), False, u).target for u in users} == {Target.NEW}


@pytest.mark.parametrize("target", [Target.LEGACY, Target.NEW])
def test_the_header_forces_a_side_whatever_the_mode(target: Target) -> None:
    facts = RequestFacts(user_key="tester", forced_target=target)

    for mode in Mode:
        decision = decide(RouteFlag(mode=mode, percent=50), False, facts)
        assert decision.target is target
        assert decision.reason == "targeting:header"


def test_listed_users_are_sent_to_new_while_the_route_is_on_legacy() -> None:
    flag = RouteFlag(force_new_user_ids=frozenset({"u-42"}))

    listed = decide(flag, False, RequestFacts(user_key="u-42", user_id="u-42"))
    other = decide(flag, False, RequestFacts(user_key="u-7", user_id="u-7"))

    assert (listed.target, listed.reason) == (Target.NEW, "targeting:user")
    assert (other.target, other.reason) == (Target.LEGACY, "flag:legacy")


def test_testers_by_email_domain_are_sent_to_new_case_insensitively() -> None:
    flag = RouteFlag(force_new_email_domains=frozenset({"testers.example"}))

    tester = decide(flag, False, RequestFacts(user_key="u-1", email="Ann@Testers.Example"))
    customer = decide(flag, False, RequestFacts(user_key="u-2", email="bob@customer.example"))
    anonymous = decide(flag, False, RequestFacts(user_key="cookie-uid"))

    assert (tester.target, tester.reason) == (Target.NEW, "targeting:email-domain")
    assert customer.target is Target.LEGACY
    assert anonymous.target is Target.LEGACY


def test_the_kill_switch_beats_every_mode_header_and_target_list() -> None:
    flag = RouteFlag(
        mode=Mode.NEW,
        force_new_user_ids=frozenset({"u-1"}),
        force_new_email_domains=frozenset({"testers.example"}),
    )
    facts = RequestFacts(
        user_key="u-1", user_id="u-1", email="a@testers.example", forced_target=Target.NEW
    )

    decision = decide(flag, True, facts)

    assert (decision.target, decision.reason) == (Target.LEGACY, "kill-switch")


@pytest.mark.parametrize("percent", [-1, 101])
def test_a_percentage_outside_zero_to_hundred_is_refused(percent: int) -> None:
    with pytest.raises(ValueError, match="percent"):
        RouteFlag(mode=Mode.CANARY, percent=percent)
