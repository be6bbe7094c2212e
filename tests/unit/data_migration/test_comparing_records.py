"""Canonical checksums and the drift between two sides' records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from strangler_migration import (
    EntityChecksums,
    ExportedRecord,
    FieldDifference,
    RecordSummary,
    canonical_fields,
    compare_checksums,
    differing_fields,
    record_checksum,
)

MOMENT = datetime(2026, 3, 1, 12, 30, 5, 250, tzinfo=UTC)


def test_the_same_moment_hashes_the_same_whatever_zone_or_naivety_the_database_gave() -> None:
    in_paris = MOMENT.astimezone(timezone(timedelta(hours=1)))
    naive_utc = MOMENT.replace(tzinfo=None)

    checksums = {
        record_checksum({"paid_at": moment, "amount_cents": 900})
        for moment in (MOMENT, in_paris, naive_utc)
    }

    assert len(checksums) == 1
    assert canonical_fields({"paid_at": naive_utc}) == {
        "paid_at": "2026-03-01T12:30:05.000250+00:00"
    }


def test_any_changed_field_changes_the_checksum_but_field_order_does_not() -> None:
    record = {"status": "paid", "amount_cents": 900}

    assert record_checksum(record) == record_checksum({"amount_cents": 900, "status": "paid"})
    assert record_checksum(record) != record_checksum({**record, "status": "open"})
    assert record_checksum(record) != record_checksum({**record, "reason": None})


def _checksums(**records: str) -> EntityChecksums:
    summaries = {
        key: RecordSummary(version=1, origin="x", checksum=c) for key, c in records.items()
    }
    return EntityChecksums(entity="invoices", count=len(summaries), records=summaries)


def test_drift_names_the_records_missing_on_each_side_and_those_that_differ() -> None:
    legacy = _checksums(a="1", b="2", c="3", d="4")
    billing = _checksums(b="2", c="x", d="4", e="5")

    drift = compare_checksums(legacy, billing)

    assert (drift.only_left, drift.only_right, drift.differing) == (["a"], ["e"], ["c"])
    assert (drift.left_count, drift.right_count, drift.drifted) == (4, 4, 3)


def test_identical_sides_do_not_drift() -> None:
    assert compare_checksums(_checksums(a="1"), _checksums(a="1")).drifted == 0


def test_the_differing_fields_are_named_with_both_values() -> None:
    left = ExportedRecord(id="i", version=2, origin="o", data={"status": "paid", "amount": 900})
    right = ExportedRecord(id="i", version=2, origin="o", data={"status": "paid", "amount": 1})

    assert differing_fields(left, right) == [FieldDifference("amount", 900, 1)]
