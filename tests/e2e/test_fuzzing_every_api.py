"""Schemathesis against every API of a running system, bounded: a regression of what the
full ``make fuzz`` run holds (no 5xx, no undocumented status or content type, every body as
documented) fails CI here.

Only schemathesis's coverage phase runs: its cases are derived from the documents, not
drawn at random (boundaries, wrong types, missing and extra fields, NUL and control
characters), so the run is the same every time and takes about a minute on one core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.apis import FuzzTarget, run_schemathesis, signed_in_token, targets
from tests.support.running_system import RunningSystem, start_system, stop_system

MAX_EXAMPLES = 1
SEED = 20261206
PHASES = "coverage"
TIMEOUT_SECONDS = 240
APIS = [
    "monolith",
    "billing",
    "payment-simulator",
    "gateway",
    "monolith-internal",
    "billing-internal",
    "notifications",
    "notifications-internal",
    "smtp-sink",
    "auth",
    "auth-internal",
]

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(5 * TIMEOUT_SECONDS)]


@pytest.fixture(scope="module")
def fuzzed_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """A private system: fuzzing registers users and pays invoices."""
    running = start_system(tmp_path_factory.mktemp("fuzzed") / "state")
    yield running
    stop_system(running)


@pytest.fixture(scope="module")
def fuzz_targets(fuzzed_system: RunningSystem) -> dict[str, FuzzTarget]:
    token = signed_in_token(fuzzed_system)
    return {target.name: target for target in targets(fuzzed_system, token)}


@pytest.mark.parametrize("api", APIS)
def test_fuzzing_finds_no_server_error_and_nothing_undocumented(
    fuzz_targets: dict[str, FuzzTarget], tmp_path: Path, api: str
) -> None:
    result = run_schemathesis(
        fuzz_targets[api],
        max_examples=MAX_EXAMPLES,
        timeout_seconds=TIMEOUT_SECONDS,
        report_dir=tmp_path,
        seed=SEED,
        phases=PHASES,
    )

    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert "generated" in result.stdout
