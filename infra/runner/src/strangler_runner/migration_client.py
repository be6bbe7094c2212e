"""A client for the data-migration endpoints of one side (`/internal/billing/…`, and on the
receiving side `/internal/migration/billing`), as `strangler migrate` uses them.

Every failure becomes a `MigrationCallFailed` (a `ComponentCallFailed`, see
`component_api.py`) whose message is one line a person can act on: the component not
answering, a problem document it sent (after the side's name), or an answer that is not the
migration API.
"""

from collections.abc import Mapping, Sequence

import httpx
from strangler_migration import (
    BackfillProgress,
    EntityChecksums,
    EntityCounts,
    ExportedRecord,
    MigrationStatus,
    RecordsFound,
    SyncStatus,
)
from strangler_migration.wire import SYNC_NOT_RUNNING

from strangler_runner.component_api import (
    ComponentApi,
    ComponentCallFailed,
    ComponentNotAnswering,
    ComponentProblem,
)

__all__ = ["MigrationCallFailed", "MigrationSide", "NotAnswering"]

LOOKUP_CHUNK = 1000

# The names `strangler migrate` knows these failures by.
MigrationCallFailed = ComponentCallFailed
NotAnswering = ComponentNotAnswering


class MigrationSide:
    """One side of a capability's migration (``name`` is how messages call it), at ``url``;
    ``headers`` carry the operator token its internal API requires."""

    def __init__(
        self,
        name: str,
        url: str,
        capability: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_seconds: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api = ComponentApi(
            name,
            url,
            "data-migration API",
            headers=headers,
            timeout_seconds=timeout_seconds,
            transport=transport,
            name_problems=True,
        )
        self.name = name
        self.url = self._api.url
        self.records_prefix = f"/internal/{capability}"
        self.migration_prefix = f"/internal/migration/{capability}"

    def __enter__(self) -> "MigrationSide":
        return self

    def __exit__(self, *_: object) -> None:
        self._api.close()

    def counts(self) -> dict[str, int]:
        return self._api.read(
            EntityCounts, self._api.call("GET", f"{self.records_prefix}/counts")
        ).counts

    def checksums(self, entity: str) -> EntityChecksums:
        answer = self._api.call("GET", f"{self.records_prefix}/checksums/{entity}")
        return self._api.read(EntityChecksums, answer)

    def records(self, entity: str, ids: Sequence[str]) -> dict[str, ExportedRecord]:
        found: dict[str, ExportedRecord] = {}
        for start in range(0, len(ids), LOOKUP_CHUNK):
            body = {"ids": list(ids[start : start + LOOKUP_CHUNK])}
            answer = self._api.call("POST", f"{self.records_prefix}/records/{entity}", json=body)
            found |= {r.id: r for r in self._api.read(RecordsFound, answer).records}
        return found

    def sync(self) -> SyncStatus | None:
        """How this side applies the other's changes; None when it does not run the sync."""
        try:
            answer = self._api.call("GET", f"{self.records_prefix}/sync")
        except ComponentProblem as problem:
            if problem.problem_type == SYNC_NOT_RUNNING.uri:
                return None
            raise
        return self._api.read(SyncStatus, answer)

    def migration_status(self) -> MigrationStatus:
        return self._api.read(MigrationStatus, self._api.call("GET", self.migration_prefix))

    def backfill(self, pages: int, *, restart: bool) -> BackfillProgress:
        params: dict[str, str | int] = {"pages": pages, "restart": str(restart).lower()}
        answer = self._api.call("POST", f"{self.migration_prefix}/backfill", params=params)
        return self._api.read(BackfillProgress, answer)
