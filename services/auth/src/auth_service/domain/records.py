"""What every account record carries besides its data: where it came from, which change it is.

``origin`` names the side that made the record's current version (``auth`` for a change
made here, ``legacy-monolith`` for what the migration copied from the monolith); ``version``
starts at 1 and grows by one with every committed change, on either side. The database
refuses a change made from an outdated version, and the two-way sync compares both fields to
tell an echo or an older change from a newer one (``strangler_migration.conflicts``).
"""

from __future__ import annotations

from typing import Final

__all__ = ["AUTH", "FIRST_VERSION", "Record"]

AUTH: Final = "auth"
FIRST_VERSION: Final = 1


class Record:
    origin: str
    version: int
