"""The ``strangler migrate notifications status | backfill | verify`` command → notifications'
operator API, through the runner's ``MigrationSide`` with the operator token (declared as
every side's are in migration_sides.py): a user's e-mail preferences as ``status`` and
``verify`` read them, the sync's status while it is off, the backfill's progress, and a
backfill step, which notifications takes by reading the real monolith's export behind it.

Replayed against a real notifications process by
tests/contracts/providers/test_notifications.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pact import Pact

from tests.contracts.consumers.migration_sides import (
    MovingRecord,
    declare_receiving_side,
    declare_records_side,
    drives_the_backfill,
    reads_the_records_side,
)
from tests.contracts.consumers.probes import declare_readiness, runner_finds_it_ready
from tests.contracts.pacts import pact_dir

PREFERENCES = MovingRecord(
    "notifications", "preferences", "42", "updated_at", "2026-12-06T10:00:00+00:00"
)


@pytest.fixture(scope="module")
def notifications_url() -> Iterator[str]:
    pact = Pact("strangler-cli", "notifications").with_specification("V4")
    declare_records_side(pact, PREFERENCES, "a user has chosen their e-mails at notifications")
    declare_receiving_side(
        pact, PREFERENCES, "one customer is registered at the monolith behind notifications"
    )
    declare_readiness(pact)
    with pact.serve() as mock:
        yield str(mock.url)
    pact.write_file(pact_dir(), overwrite=True)


def test_the_cli_reads_notifications_records(notifications_url: str) -> None:
    reads_the_records_side("notifications", notifications_url, PREFERENCES)


def test_the_cli_drives_notifications_backfill(notifications_url: str) -> None:
    drives_the_backfill("notifications", notifications_url, PREFERENCES)


async def test_the_cli_finds_it_ready(notifications_url: str) -> None:
    await runner_finds_it_ready(notifications_url)
