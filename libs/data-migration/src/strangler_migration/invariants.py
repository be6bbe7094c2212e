"""Reconciliation beyond equality: business rules that must hold on each side on its own.

Two sides can agree record for record and both be wrong — an invoice paid twice on both
is "no drift". An ``Invariant`` reads the records of one side (``ExportedRecord``s by
entity, as the data-migration endpoints serve them) and names every group of records that
breaks its rule, as a ``Violation``. Two shapes cover what a capability's records promise:

- ``AtMostOne``: at most one record of an entity matching a condition per value of a field
  ("at most one successful payment per invoice");
- ``TotalWithin``: a field summed per group never exceeds the same sum over a second entity
  ("refunds of an invoice never exceed what was paid for it").

What the rules are is the capability's; this module only checks them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from strangler_migration.wire import ExportedRecord

__all__ = [
    "AtMostOne",
    "Invariant",
    "RecordsByEntity",
    "TotalWithin",
    "Violation",
    "violations",
]

RecordsByEntity = Mapping[str, Sequence[ExportedRecord]]


@dataclass(frozen=True)
class Violation:
    """``rule`` broken by the records of ``entity`` grouped under ``key`` (e.g. an invoice
    id); ``detail`` says how, naming the records."""

    rule: str
    entity: str
    key: str
    detail: str


class Invariant(Protocol):
    @property
    def rule(self) -> str:
        """The rule in words, as a person checking it would say it."""
        ...

    @property
    def entities(self) -> tuple[str, ...]:
        """The entities whose records the check reads."""
        ...

    def check(self, records: RecordsByEntity) -> list[Violation]: ...


def _matches(record: ExportedRecord, where: Mapping[str, Any]) -> bool:
    return all(record.data.get(name) == value for name, value in where.items())


def _grouped(
    records: Sequence[ExportedRecord], per: str, where: Mapping[str, Any]
) -> dict[str, list[ExportedRecord]]:
    groups: dict[str, list[ExportedRecord]] = defaultdict(list)
    for record in records:
        if _matches(record, where):
            groups[str(record.data.get(per))].append(record)
    return groups


@dataclass(frozen=True)
class AtMostOne:
    """At most one record of ``entity`` whose fields match ``where``, per value of ``per``."""

    rule: str
    entity: str
    per: str
    where: Mapping[str, Any] = field(default_factory=dict)

    @property
    def entities(self) -> tuple[str, ...]:
        return (self.entity,)

    def check(self, records: RecordsByEntity) -> list[Violation]:
        groups = _grouped(records.get(self.entity, ()), self.per, self.where)
        return [
            Violation(
                self.rule,
                self.entity,
                key,
                f"{len(found)} {self.entity}: {', '.join(sorted(r.id for r in found))}",
            )
            for key, found in sorted(groups.items())
            if len(found) > 1
        ]


@dataclass(frozen=True)
class TotalWithin:
    """Per value of ``per``, the ``total`` field of ``entity`` summed is at most the
    ``limit`` field of ``limit_entity`` summed over its records matching ``limit_where``
    (grouped by ``limit_per``)."""

    rule: str
    entity: str
    total: str
    per: str
    limit_entity: str
    limit: str
    limit_per: str
    limit_where: Mapping[str, Any] = field(default_factory=dict)

    @property
    def entities(self) -> tuple[str, ...]:
        return (self.entity, self.limit_entity)

    def check(self, records: RecordsByEntity) -> list[Violation]:
        totals = _grouped(records.get(self.entity, ()), self.per, {})
        limits = _grouped(records.get(self.limit_entity, ()), self.limit_per, self.limit_where)
        found = []
        for key, group in sorted(totals.items()):
            total = sum(int(r.data.get(self.total) or 0) for r in group)
            limit = sum(int(r.data.get(self.limit) or 0) for r in limits.get(key, ()))
            if total > limit:
                found.append(
                    Violation(
                        self.rule,
                        self.entity,
                        key,
                        f"{self.total} {total} > {limit} "
                        f"({', '.join(sorted(r.id for r in group))})",
                    )
                )
        return found


def violations(invariants: Sequence[Invariant], records: RecordsByEntity) -> list[Violation]:
    """Every violation of every invariant in one side's records, in the invariants' order."""
    return [violation for invariant in invariants for violation in invariant.check(records)]
