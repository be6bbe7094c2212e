"""The SMTP sink honours every pact that names it: the ``strangler`` command's readiness probe
of its mail viewer, replayed against the real sink process."""

from __future__ import annotations

from pathlib import Path

from tests.contracts.providers.event_triggers import smtp_sink
from tests.contracts.verification import verify


def test_the_smtp_sink_honours_its_consumers(tmp_path: Path) -> None:
    with smtp_sink(tmp_path) as (_, sink):
        verification = verify("smtp-sink", sink.url)
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 1
