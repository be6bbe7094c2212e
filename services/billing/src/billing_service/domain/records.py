"""What every billing record carries besides its business data: where it came from, and
which change of it this is.

``origin`` names the side that made the record's current version: ``billing`` for a change
made here, or the side whose change was copied over (``legacy-monolith`` for customers, for
what the backfill copies and for the monolith's changes applied by the sync). ``version``
starts at 1 and grows by one with every committed change, on either side; the database
refuses a change made from an outdated version, so two concurrent writers cannot both win.
The two-way sync compares both fields to tell an echo or an older change from a newer one
(``strangler_migration.conflicts``; the rule is in the README).
"""

from __future__ import annotations

from typing import Final

from billing_service.domain.events import DomainEvent

__all__ = ["BILLING", "FIRST_VERSION", "Aggregate", "Record"]

BILLING: Final = "billing"
FIRST_VERSION: Final = 1


class Record:
    origin: str
    version: int


class Aggregate(Record):
    """A record that changes only through its own methods, each recording what happened.

    The unit of work takes the recorded events when it commits and puts them in the outbox
    in the same transaction.
    """

    events: list[DomainEvent]

    def record(self, event: DomainEvent) -> None:
        self.events.append(event)
