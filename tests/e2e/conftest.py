"""`system` (session scope) is the whole system, shared by every e2e test of the session;
`launch_system` starts a private one for tests that stop or kill it. `make e2e` runs two
sessions side by side (pytest-xdist workers, a test file each at a time), each with its own
`system` on ports of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from tests.support.running_system import RunningSystem, force_stop, start_system, stop_system


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """The whole system, up and healthy, shared by the session; stopped and checked at the end."""
    running = start_system(tmp_path_factory.mktemp("strangler") / "state")
    yield running
    stop_system(running)


@pytest.fixture
def launch_system(tmp_path: Path) -> Iterator[Callable[[], RunningSystem]]:
    """Start a private system for a test that stops or kills it; cleaned up whatever happens."""
    launched: list[RunningSystem] = []

    def launch() -> RunningSystem:
        running = start_system(tmp_path / f"state-{len(launched)}")
        launched.append(running)
        return running

    yield launch
    for running in launched:
        force_stop(running)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, RunningSystem):
                report.sections.append(("strangler up output", value.output()))
    return report
