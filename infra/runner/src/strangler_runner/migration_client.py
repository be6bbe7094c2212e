"""A client for the data-migration endpoints of one side (`/internal/billing/…`, and on the
receiving side `/internal/migration/billing`), as `strangler migrate` uses them.

Every failure becomes a `MigrationCallFailed` whose message is one line a person can act on:
the component not answering, a problem document it sent, or an answer that is not the
migration API. The commands print that line; nobody sees a traceback.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from strangler_migration import (
    BackfillProgress,
    EntityChecksums,
    EntityCounts,
    ExportedRecord,
    MigrationStatus,
    RecordsFound,
    SyncStatus,
)

__all__ = ["MigrationCallFailed", "MigrationSide", "NotAnswering"]

Answer = TypeVar("Answer", bound=BaseModel)
LOOKUP_CHUNK = 1000


class MigrationCallFailed(Exception):
    """Anything that kept a call from succeeding; ``str()`` is the line to show."""


class NotAnswering(MigrationCallFailed):
    def __init__(self, name: str, url: str) -> None:
        super().__init__(f"{name} at {url} is not answering; is `strangler up` running?")


class MigrationSide:
    """One side of a capability's migration (``name`` is how messages call it), at ``url``."""

    def __init__(
        self,
        name: str,
        url: str,
        capability: str,
        *,
        timeout_seconds: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.records_prefix = f"/internal/{capability}"
        self.migration_prefix = f"/internal/migration/{capability}"
        self._client = httpx.Client(base_url=self.url, timeout=timeout_seconds, transport=transport)

    def __enter__(self) -> "MigrationSide":
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def counts(self) -> dict[str, int]:
        return self._read(EntityCounts, self._call("GET", f"{self.records_prefix}/counts")).counts

    def checksums(self, entity: str) -> EntityChecksums:
        answer = self._call("GET", f"{self.records_prefix}/checksums/{entity}")
        return self._read(EntityChecksums, answer)

    def records(self, entity: str, ids: Sequence[str]) -> dict[str, ExportedRecord]:
        found: dict[str, ExportedRecord] = {}
        for start in range(0, len(ids), LOOKUP_CHUNK):
            body = {"ids": list(ids[start : start + LOOKUP_CHUNK])}
            answer = self._call("POST", f"{self.records_prefix}/records/{entity}", json=body)
            found |= {r.id: r for r in self._read(RecordsFound, answer).records}
        return found

    def sync(self) -> SyncStatus | None:
        """How this side applies the other's changes; None when it does not run the sync."""
        answer = self._call("GET", f"{self.records_prefix}/sync", absent_is_none=True)
        return None if answer is None else self._read(SyncStatus, answer)

    def migration_status(self) -> MigrationStatus:
        return self._read(MigrationStatus, self._call("GET", self.migration_prefix))

    def backfill(self, pages: int, *, restart: bool) -> BackfillProgress:
        params: dict[str, str | int] = {"pages": pages, "restart": str(restart).lower()}
        answer = self._call("POST", f"{self.migration_prefix}/backfill", params=params)
        return self._read(BackfillProgress, answer)

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        absent_is_none: bool = False,
    ) -> Any:
        try:
            response = self._client.request(method, path, json=json, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise NotAnswering(self.name, self.url) from None
        except httpx.TransportError as broken:
            raise MigrationCallFailed(
                f"{self.name} at {self.url} did not answer properly: {type(broken).__name__}"
            ) from None
        if absent_is_none and response.status_code == 404 and _problem_type(response):
            return None
        if response.is_error:
            raise self._refusal(response)
        try:
            return response.json()
        except ValueError:
            raise self._unexpected() from None

    def _refusal(self, response: httpx.Response) -> MigrationCallFailed:
        problem = _problem(response)
        if problem is not None and isinstance(problem.get("title"), str):
            detail = problem.get("detail")
            suffix = f": {detail}" if isinstance(detail, str) and detail else ""
            return MigrationCallFailed(f"{self.name}: {problem['title']}{suffix}")
        if response.status_code == 404:
            return self._unexpected()
        return MigrationCallFailed(
            f"{self.name} at {self.url} answered {response.status_code} {response.reason_phrase}"
        )

    def _unexpected(self) -> MigrationCallFailed:
        return MigrationCallFailed(
            f"{self.url} answered, but not as {self.name}'s data-migration API does; "
            f"is that {self.name}'s URL?"
        )

    def _read(self, model: type[Answer], answer: Any) -> Answer:
        try:
            return model.model_validate(answer)
        except ValidationError:
            raise self._unexpected() from None


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _problem_type(response: httpx.Response) -> str | None:
    problem = _problem(response)
    kind = problem.get("type") if problem else None
    return kind if isinstance(kind, str) else None
