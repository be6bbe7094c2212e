"""GatewayFlagSource reads GET /_strangler/flags in the background and keeps the last good
answer; here the gateway is an ``httpx.MockTransport``, so nothing touches the network."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ProviderNotReadyError
from strangler_flags import (
    FlagSourceUnavailable,
    GatewayFlagSource,
    Mode,
    RouteFlag,
    StranglerFlagProvider,
)

TOKEN = "admin-token-for-tests"
WAIT_SECONDS = 10.0


def _view(mode: str = "canary", percent: int = 30, kill_switch: bool = False) -> dict[str, object]:
    return {
        "kill_switch": kill_switch,
        "flags": [
            {
                "route": "billing",
                "prefix": "/api/billing",
                "mode": mode,
                "percent": percent,
                "force_new_user_ids": ["42"],
                "force_new_email_domains": [],
                "a_key_added_later": {"ignored": True},
            }
        ],
    }


class FakeGateway:
    """Answers GET /_strangler/flags with ``view``, or fails while ``down`` is set."""

    def __init__(self) -> None:
        self.view: dict[str, object] = _view()
        self.down = threading.Event()
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down.is_set():
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json=self.view)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def _eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_SECONDS:g} s"
        time.sleep(0.01)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def make_source(gateway: FakeGateway) -> Iterator[Callable[..., GatewayFlagSource]]:
    started: list[GatewayFlagSource] = []

    def make(**options: float) -> GatewayFlagSource:
        source = GatewayFlagSource(
            "http://gateway.test/", TOKEN, poll_seconds=0.01, transport=gateway.transport(),
            **options,
        )  # fmt: skip
        started.append(source)
        return source

    yield make
    for source in started:
        source.stop()


def test_the_source_reads_every_routes_flag_with_the_admin_token(
    gateway: FakeGateway, make_source: Callable[..., GatewayFlagSource]
) -> None:
    source = make_source()

    source.start()

    state = source.current()
    assert state is not None
    assert state.flags == {
        "billing": RouteFlag(Mode.CANARY, 30, force_new_user_ids=frozenset({"42"}))
    }
    assert state.kill_switch is False
    request = gateway.requests[0]
    assert str(request.url) == "http://gateway.test/_strangler/flags"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-strangler-actor"] == "openfeature-provider"


def test_a_change_at_the_gateway_reaches_the_source(
    gateway: FakeGateway, make_source: Callable[..., GatewayFlagSource]
) -> None:
    source = make_source()
    source.start()

    gateway.view = _view(mode="new", kill_switch=True)

    _eventually(lambda: (state := source.current()) is not None and state.kill_switch, "update")
    state = source.current()
    assert state is not None
    assert state.flags["billing"].mode is Mode.NEW


def test_a_failing_gateway_leaves_the_last_good_flags_in_place(
    gateway: FakeGateway, make_source: Callable[..., GatewayFlagSource]
) -> None:
    source = make_source()
    source.start()
    good = source.current()

    gateway.down.set()
    failed_from = len(gateway.requests)
    _eventually(lambda: len(gateway.requests) >= failed_from + 3, "three failed polls")

    assert source.current() is good


def test_a_silent_gateway_fails_initialisation_and_the_provider_recovers_when_it_answers(
    gateway: FakeGateway, make_source: Callable[..., GatewayFlagSource]
) -> None:
    gateway.down.set()
    provider = StranglerFlagProvider(make_source(startup_timeout_seconds=0.05))
    context = EvaluationContext(targeting_key="user-1", attributes={"user_id": "42"})

    with pytest.raises(ProviderNotReadyError, match=r"gateway\.test"):
        provider.initialize(EvaluationContext())
    before = provider.resolve_string_details("billing", "legacy", context)
    gateway.down.clear()
    _eventually(
        lambda: provider.resolve_string_details("billing", "?", context).value == "new",
        "the first answer after the gateway came back",
    )

    assert (before.value, before.error_code) == ("legacy", "PROVIDER_NOT_READY")
    provider.shutdown()


def test_start_reports_an_unavailable_gateway_by_its_url(
    gateway: FakeGateway, make_source: Callable[..., GatewayFlagSource]
) -> None:
    gateway.down.set()
    source = make_source(startup_timeout_seconds=0.05)

    with pytest.raises(FlagSourceUnavailable, match=r"http://gateway\.test/_strangler/flags"):
        source.start()
    assert source.current() is None
