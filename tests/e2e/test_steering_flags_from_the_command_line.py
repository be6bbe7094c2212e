"""`strangler flags`, `kill-switch` and `diffs` against the running system, as a person in a
workshop uses them; the effect is checked on requests through the gateway.

The system is shared by the session: every test puts billing back on legacy, kill switch off.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from strangler_flags import bucket_of

from tests.support.running_system import RunningSystem, free_port

pytestmark = pytest.mark.e2e

FOLLOW_DEADLINE_SECONDS = 30.0
CANARY_PERCENT = 30


def _user_on_legacy_of_the_canary() -> tuple[str, int]:
    """A fresh sticky user key whose bucket keeps it on legacy at ``CANARY_PERCENT``.

    Only legacy is running in this system, so no request here may be sent to new.
    """
    while True:
        key = f"e2e-{uuid.uuid4().hex}"
        if (bucket := bucket_of(key)) >= CANARY_PERCENT:
            return key, bucket


def _reason(system: RunningSystem, user: str) -> str:
    response = httpx.get(
        f"{system.gateway_url}/api/billing/plans",
        headers={"Cookie": f"strangler_uid={user}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.headers["x-strangler-reason"]


def _eventually(observe: Callable[[], str], expected: str, what: str) -> float:
    """Poll until ``observe()`` returns ``expected``; the delay goes into failure messages only."""
    began = time.monotonic()
    while (seen := observe()) != expected:
        waited = time.monotonic() - began
        assert waited < FOLLOW_DEADLINE_SECONDS, f"{what}: still {seen!r} after {waited:.1f} s"
        time.sleep(0.1)
    return time.monotonic() - began


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture
def billing_restored(system: RunningSystem) -> Iterator[None]:
    """Whatever the test does, billing ends on legacy and the kill switch off."""
    yield
    system.strangler("kill-switch", "off", "--reason", "e2e clean-up")
    system.strangler("flags", "set", "billing", "legacy", "--clear-targeting")


def test_flags_list_shows_every_route_and_the_kill_switch(system: RunningSystem) -> None:
    out = _ok(system.strangler("flags", "list"))

    for route, prefix in [
        ("auth", "/api/auth"),
        ("billing", "/api/billing"),
        ("notifications", "/api/notifications"),
        ("users", "/api/users"),
    ]:
        assert re.search(rf"{route}\s.*{prefix}\s", out), out
    assert "kill switch: off" in out


@pytest.mark.usefixtures("billing_restored")
def test_flags_set_canary_moves_billing_and_is_in_the_history(system: RunningSystem) -> None:
    user, bucket = _user_on_legacy_of_the_canary()
    why = f"e2e canary {uuid.uuid4().hex[:8]}"

    out = _ok(system.strangler(
        "flags", "set", "billing", "canary", "--percent", str(CANARY_PERCENT), "--reason", why,
    ))  # fmt: skip

    billing = next(line for line in out.splitlines() if "billing" in line)
    assert "canary" in billing
    assert f"{CANARY_PERCENT} %" in billing
    _eventually(
        lambda: _reason(system, user),
        f"flag:canary-bucket-{bucket}",
        "the gateway routing billing by the canary",
    )
    history = _ok(system.strangler("flags", "history", "billing", "--limit", "5"))
    latest = next(line for line in history.splitlines() if why in line)
    assert f"canary {CANARY_PERCENT} %" in latest
    assert "cli:" in latest


@pytest.mark.usefixtures("billing_restored")
def test_the_kill_switch_sends_billing_to_legacy_and_back_to_its_flag(
    system: RunningSystem,
) -> None:
    user, bucket = _user_on_legacy_of_the_canary()
    _ok(system.strangler("flags", "set", "billing", "canary", "--percent", str(CANARY_PERCENT)))
    _eventually(lambda: _reason(system, user), f"flag:canary-bucket-{bucket}", "the canary")

    on = _ok(system.strangler("kill-switch", "on", "--reason", "e2e drill"))
    _eventually(lambda: _reason(system, user), "kill-switch", "the kill switch taking over")
    off = _ok(system.strangler("kill-switch", "off", "--reason", "e2e drill over"))
    _eventually(
        lambda: _reason(system, user), f"flag:canary-bucket-{bucket}", "the flag deciding again"
    )

    assert "kill switch ON" in on
    assert "kill switch off" in off
    history = _ok(system.strangler("flags", "history", "kill-switch", "--limit", "2"))
    assert "e2e drill over" in history
    assert "on → off" in history


def test_an_unknown_mode_is_refused_in_one_clear_line(system: RunningSystem) -> None:
    result = system.strangler("flags", "set", "billing", "sideways")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: 'sideways' is not a mode; choose one of legacy, shadow, canary, new"
    )


def test_an_unknown_route_is_the_gateways_problem_in_one_line(system: RunningSystem) -> None:
    result = system.strangler("flags", "set", "payroll", "new")

    assert result.returncode == 1
    assert result.stderr.strip() == "error: Unknown route: No route is named 'payroll'."


def test_a_gateway_that_is_not_there_is_named_in_one_line(system: RunningSystem) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"

    result = system.strangler("flags", "list", "--gateway", nowhere)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: the gateway at {nowhere} is not answering; is `strangler up` running?"
    )


@pytest.mark.usefixtures("billing_restored")
def test_diffs_count_the_requests_mirrored_in_shadow_mode(system: RunningSystem) -> None:
    user = f"e2e-{uuid.uuid4().hex}"
    _ok(system.strangler("flags", "set", "billing", "shadow", "--reason", "e2e shadow"))
    _eventually(lambda: _reason(system, user), "flag:shadow", "the gateway shadowing billing")

    for _ in range(3):
        _reason(system, user)

    def mirrored() -> str:
        out = _ok(system.strangler("diffs", "billing"))
        found = re.search(r"^billing: mirrored (\d+), compared \d+, differing \d+", out, re.M)
        assert found, out
        return "some" if int(found.group(1)) > 0 else "none"

    _eventually(mirrored, "some", "mirrored requests in `strangler diffs billing`")
