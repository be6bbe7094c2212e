"""Schemathesis against every API of a running system, bounded: a regression of what the
full ``make fuzz`` run holds (no 5xx, no undocumented status or content type, every body as
documented) fails CI here, and so does an operation the run's caller may use that answered
nothing but 401 or 403 (its cases never got past the door: a case that closed the caller's
account, say).

Only schemathesis's coverage phase runs: its cases are derived from the documents, not
drawn at random (boundaries, wrong types, missing and extra fields, NUL and control
characters), so the run is the same every time and takes about a minute on one core.

Each API's count of generated cases is recorded: as the test's ``schemathesis_cases``
property (in a JUnit report) and in ``.strangler/fuzz/cases.json`` (``STRANGLER_FUZZ_CASES``),
one entry per API, so a run's counts can be quoted."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fuzz.apis import (
    FuzzTarget,
    cases_generated,
    record_cases,
    refused_operations,
    run_schemathesis,
    signed_in_token,
    targets,
)
from tests.support.running_system import RunningSystem, start_system, stop_system

MAX_EXAMPLES = 1
SEED = 20261206
PHASES = "coverage"
TIMEOUT_SECONDS = 240
CASES_FILE = Path(
    os.environ.get(
        "STRANGLER_FUZZ_CASES",
        Path(__file__).resolve().parents[2] / ".strangler" / "fuzz" / "cases.json",
    )
)
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
    # Last: its cases set flags and the kill switch of the system the others are fuzzed on.
    "gateway-admin",
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
    fuzz_targets: dict[str, FuzzTarget],
    tmp_path: Path,
    api: str,
    record_property: Callable[[str, object], None],
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
    cases = cases_generated(result.stdout)
    record_property("schemathesis_cases", cases)
    record_cases(CASES_FILE, api, cases)
    print(f"{api}: {cases} cases")
    assert cases > 0, result.stdout[-5000:]
    # Every operation the run's credentials may use is reached past 401: only /internal/*
    # refuses a customer (its own run has the operator token), and nothing refuses it.
    unreached = [
        operation
        for operation in refused_operations(result.stdout)
        if fuzz_targets[api].included_paths is not None
        or not operation.split(" ", 1)[1].startswith("/internal/")
    ]
    assert unreached == [], result.stdout[-5000:]
