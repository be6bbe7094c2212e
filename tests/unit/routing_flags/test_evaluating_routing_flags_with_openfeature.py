"""A service asks OpenFeature which side serves a user, and gets the gateway's own answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from strangler_flags import (
    InMemoryFlagSource,
    Mode,
    RequestFacts,
    RouteFlag,
    StranglerFlagProvider,
    bucket_of,
    decide,
)

USERS = [f"user-{n:04d}" for n in range(1_000)]


@pytest.fixture
def source() -> InMemoryFlagSource:
    return InMemoryFlagSource({route: RouteFlag() for route in ("billing", "auth", "users")})


@pytest.fixture
def client(source: InMemoryFlagSource) -> Iterator[OpenFeatureClient]:
    """An OpenFeature client bound to the provider, in a domain of its own."""
    domain = f"routing-{uuid.uuid4().hex[:8]}"
    api.set_provider_and_wait(StranglerFlagProvider(source), domain=domain)
    yield api.get_client(domain)
    api.clear_providers()


def _as(user: str, **attributes: str) -> EvaluationContext:
    return EvaluationContext(targeting_key=user, attributes=attributes)


@pytest.mark.parametrize(
    ("mode", "side", "strangler_reason"),
    [
        (Mode.LEGACY, "legacy", "flag:legacy"),
        (Mode.SHADOW, "legacy", "flag:shadow"),
        (Mode.NEW, "new", "flag:new"),
    ],
)
def test_a_plain_mode_answers_its_side_as_a_static_flag(
    client: OpenFeatureClient,
    source: InMemoryFlagSource,
    mode: Mode,
    side: str,
    strangler_reason: str,
) -> None:
    source.set_flag("billing", RouteFlag(mode=mode))

    details = client.get_string_details("billing", "legacy", _as("user-1"))

    assert details.value == side
    assert details.variant == side
    assert details.reason == Reason.STATIC
    assert details.flag_metadata["strangler_reason"] == strangler_reason
    assert details.error_code is None


def test_canary_splits_users_exactly_as_the_gateway_does(
    client: OpenFeatureClient, source: InMemoryFlagSource
) -> None:
    flag = RouteFlag(mode=Mode.CANARY, percent=30)
    source.set_flag("billing", flag)

    for user in USERS:
        details = client.get_string_details("billing", "legacy", _as(user))
        gateway = decide(flag, False, RequestFacts(user_key=user))

        assert details.value == gateway.target.value
        assert details.reason == Reason.SPLIT
        assert details.flag_metadata["strangler_reason"] == f"flag:canary-bucket-{bucket_of(user)}"
    on_new = sum(client.get_boolean_value("billing", False, _as(user)) for user in USERS)
    assert 0 < on_new < len(USERS)


def test_a_user_keeps_their_side_on_every_evaluation(
    client: OpenFeatureClient, source: InMemoryFlagSource
) -> None:
    source.set_flag("billing", RouteFlag(mode=Mode.CANARY, percent=50))

    sides = {
        user: {client.get_string_value("billing", "?", _as(user)) for _ in range(5)}
        for user in USERS[:50]
    }

    assert all(len(seen) == 1 for seen in sides.values())


def test_targeted_users_and_email_domains_are_a_targeting_match(
    client: OpenFeatureClient, source: InMemoryFlagSource
) -> None:
    source.set_flag(
        "billing",
        RouteFlag(
            force_new_user_ids=frozenset({"42"}), force_new_email_domains=frozenset({"acme.test"})
        ),
    )

    by_id = client.get_string_details("billing", "legacy", _as("42", user_id="42"))
    by_domain = client.get_string_details("billing", "legacy", _as("7", email="erin@ACME.test"))
    anyone = client.get_string_details("billing", "legacy", _as("8", email="bob@example.com"))

    assert (by_id.value, by_id.reason) == ("new", Reason.TARGETING_MATCH)
    assert by_id.flag_metadata["strangler_reason"] == "targeting:user"
    assert (by_domain.value, by_domain.reason) == ("new", Reason.TARGETING_MATCH)
    assert by_domain.flag_metadata["strangler_reason"] == "targeting:email-domain"
    assert (anyone.value, anyone.reason) == ("legacy", Reason.STATIC)


@pytest.mark.parametrize("side", ["legacy", "new"])
def test_the_target_attribute_forces_a_side_like_the_header(
    client: OpenFeatureClient, source: InMemoryFlagSource, side: str
) -> None:
    source.set_flag("billing", RouteFlag(mode=Mode.CANARY, percent=50))

    details = client.get_string_details("billing", "?", _as("tester", target=side))

    assert details.value == side
    assert details.reason == Reason.TARGETING_MATCH
    assert details.flag_metadata["strangler_reason"] == "targeting:header"


def test_the_kill_switch_disables_every_route_on_legacy(
    client: OpenFeatureClient, source: InMemoryFlagSource
) -> None:
    source.set_flag("billing", RouteFlag(mode=Mode.NEW))
    source.set_kill_switch(True)

    details = client.get_string_details("billing", "new", _as("user-1", target="new"))
    serves_new = client.get_boolean_details("billing", True, _as("user-1"))

    assert details.value == "legacy"
    assert details.reason == Reason.DISABLED
    assert details.flag_metadata["strangler_reason"] == "kill-switch"
    assert serves_new.value is False
    assert serves_new.variant == "legacy"


def test_the_boolean_says_whether_new_serves_the_user(
    client: OpenFeatureClient, source: InMemoryFlagSource
) -> None:
    source.set_flag("billing", RouteFlag(mode=Mode.NEW))

    assert client.get_boolean_value("billing", False, _as("user-1")) is True
    assert client.get_boolean_value("auth", True, _as("user-1")) is False


def test_a_changed_flag_is_answered_by_the_next_evaluation(
    client: OpenFeatureClient, source: InMemoryFlagSource
) -> None:
    before = client.get_string_value("billing", "?", _as("user-1"))
    source.set_flag("billing", RouteFlag(mode=Mode.NEW))
    after = client.get_string_value("billing", "?", _as("user-1"))

    assert (before, after) == ("legacy", "new")


def test_an_unknown_route_answers_the_default_with_flag_not_found(
    client: OpenFeatureClient,
) -> None:
    details = client.get_string_details("payroll", "legacy", _as("user-1"))

    assert details.value == "legacy"
    assert details.error_code == ErrorCode.FLAG_NOT_FOUND
    assert details.reason == Reason.ERROR
    assert "payroll" in (details.error_message or "")


def test_numbers_and_objects_are_a_type_mismatch(client: OpenFeatureClient) -> None:
    integer = client.get_integer_details("billing", 7, _as("user-1"))
    floating = client.get_float_details("billing", 0.5, _as("user-1"))
    obj = client.get_object_details("billing", {"side": "legacy"}, _as("user-1"))

    assert (integer.value, integer.error_code) == (7, ErrorCode.TYPE_MISMATCH)
    assert (floating.value, floating.error_code) == (0.5, ErrorCode.TYPE_MISMATCH)
    assert (obj.value, obj.error_code) == ({"side": "legacy"}, ErrorCode.TYPE_MISMATCH)


def test_a_canary_needs_a_targeting_key_but_a_plain_mode_does_not(
    client: OpenFeatureClient, source: InMemoryFlagSource
) -> None:
    source.set_flag("billing", RouteFlag(mode=Mode.CANARY, percent=30))

    canary = client.get_string_details("billing", "legacy", EvaluationContext())
    by_user_id = client.get_string_details(
        "billing", "?", EvaluationContext(attributes={"user_id": "user-3"})
    )
    plain = client.get_string_details("auth", "?", EvaluationContext())

    assert (canary.value, canary.error_code) == ("legacy", ErrorCode.TARGETING_KEY_MISSING)
    bucket = bucket_of("user-3")
    assert by_user_id.flag_metadata["strangler_reason"] == f"flag:canary-bucket-{bucket}"
    assert (plain.value, plain.error_code) == ("legacy", None)


def test_a_target_that_is_no_side_is_an_invalid_context(client: OpenFeatureClient) -> None:
    details = client.get_string_details("billing", "legacy", _as("user-1", target="sideways"))

    assert (details.value, details.error_code) == ("legacy", ErrorCode.INVALID_CONTEXT)


def test_the_provider_names_itself(source: InMemoryFlagSource) -> None:
    assert StranglerFlagProvider(source).get_metadata().name == "strangler-routing-flags"
