"""Reconciliation: comparing one entity on two sides, record by record.

First by checksums (``EntityChecksums`` from each side): a record only one side holds is
missing on the other; a record both hold with different checksums differs. Then, for the
records that differ, field by field (``differing_fields``) from the records themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strangler_migration.wire import EntityChecksums, ExportedRecord

__all__ = ["EntityDrift", "FieldDifference", "compare_checksums", "differing_fields"]


@dataclass(frozen=True)
class FieldDifference:
    field: str
    left: Any
    right: Any


@dataclass(frozen=True)
class EntityDrift:
    """How one entity differs between a ``left`` and a ``right`` side; ids in sorted order."""

    entity: str
    left_count: int
    right_count: int
    only_left: list[str] = field(default_factory=list)
    only_right: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> int:
        return len(self.only_left) + len(self.only_right) + len(self.differing)


def compare_checksums(left: EntityChecksums, right: EntityChecksums) -> EntityDrift:
    if left.entity != right.entity:
        raise ValueError(f"comparing {left.entity} with {right.entity}")
    both = left.records.keys() & right.records.keys()
    return EntityDrift(
        entity=left.entity,
        left_count=left.count,
        right_count=right.count,
        only_left=sorted(left.records.keys() - both),
        only_right=sorted(right.records.keys() - both),
        differing=sorted(
            key for key in both if left.records[key].checksum != right.records[key].checksum
        ),
    )


def differing_fields(left: ExportedRecord, right: ExportedRecord) -> list[FieldDifference]:
    """The fields whose canonical values differ, in the left record's field order."""
    names = [*left.data, *(name for name in right.data if name not in left.data)]
    return [
        FieldDifference(name, left.data.get(name), right.data.get(name))
        for name in names
        if left.data.get(name) != right.data.get(name)
    ]
