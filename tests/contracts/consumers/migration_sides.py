"""``strangler migrate <capability> status | backfill | verify`` → one side of a migration,
through the runner's ``MigrationSide``, as pact interactions any side's consumer test declares.

Every side (the monolith and the service taking the capability over) serves its records under
``/internal/<capability>``: counts, each record's stamp and checksum, the records ``verify``
found differing, and the sync's status; the receiving service also serves the backfill under
``/internal/migration/<capability>``, which the command drives a few pages per call. The
mechanism is one (``strangler_migration``), the paths and records are each capability's: so
each side's pact names them, and a consumer test here exercises the real client on them.

Requests carry the operator's bearer and, where they name a record, the id the provider
state's record got (provider-state injected values: ``${operator_token}``,
``${<capability>_<entity>_id}``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pact import Pact, match
from pact.match.matcher import GenericMatcher
from strangler_migration.wire import SYNC_NOT_RUNNING
from strangler_runner.migration_client import MigrationSide

from tests.contracts.consumers.state_values import bearer_from_state, value_from_state

__all__ = [
    "PROBLEM",
    "TOKEN",
    "MovingRecord",
    "declare_receiving_side",
    "declare_records_side",
    "drives_the_backfill",
    "operator_bearer",
    "reads_the_records_side",
]

TOKEN = "operator"  # the bearer in the pacts' examples
PROBLEM = "application/problem+json"
PAGES_PER_CALL = 5  # `strangler migrate … backfill`'s default --pages-per-call


@dataclass(frozen=True)
class MovingRecord:
    """One record of a moving capability: ``record_id`` (an example; the provider state's in
    the verification) and one ``field`` of its data, with an example ``value``."""

    capability: str
    entity: str
    record_id: str
    field: str
    value: str

    @property
    def id_key(self) -> str:
        return f"{self.capability}_{self.entity}_id"


def operator_bearer() -> GenericMatcher[str]:
    """The operator's bearer: an example here, this run's token in the verification."""
    return bearer_from_state(TOKEN, "operator_token")


def declare_records_side(pact: Pact, record: MovingRecord, state: str) -> None:
    """What ``status`` and ``verify`` read of a side holding ``record`` (given ``state``),
    whose sync is off."""
    prefix, entity = f"/internal/{record.capability}", record.entity
    stamp = {
        "version": match.int(1),
        "origin": match.str("legacy-monolith"),
        "checksum": match.regex("0" * 64, regex=r"^[0-9a-f]{64}$"),
    }
    (
        pact.upon_receiving(f"the record counts of each {record.capability} entity")
        .given(state)
        .with_request("GET", f"{prefix}/counts")
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body({"counts": {entity: match.int(1)}}, content_type="application/json")
    )
    (
        pact.upon_receiving(f"every {record.capability} {entity} record's stamp and checksum")
        .given(state)
        .with_request("GET", f"{prefix}/checksums/{entity}")
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body(
            {
                "entity": entity,
                "count": match.int(1),
                "records": match.each_value_matches(
                    {record.record_id: stamp}, rules=match.type(stamp)
                ),
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving(f"the {record.capability} {entity} records `verify` found differing")
        .given(state)
        .with_request("POST", f"{prefix}/records/{entity}")
        .with_header("Authorization", operator_bearer())
        .with_body(
            {"ids": [value_from_state(record.record_id, record.id_key)]},
            content_type="application/json",
        )
        .will_respond_with(200)
        .with_body(
            {
                "entity": entity,
                "records": match.each_like(
                    {
                        "id": match.str(record.record_id),
                        "version": match.int(1),
                        "origin": match.str("legacy-monolith"),
                        "data": {record.field: match.str(record.value)},
                    },
                    min=1,
                ),
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving(f"the {record.capability} sync's status from a side not syncing")
        .given(state)
        .with_request("GET", f"{prefix}/sync")
        .with_header("Authorization", operator_bearer())
        .will_respond_with(404)
        .with_body(
            {
                # The command knows this answer by its type: exactly this URI.
                "type": SYNC_NOT_RUNNING.uri,
                "title": match.str("Sync not running"),
                "status": 404,
            },
            content_type=PROBLEM,
        )
    )


def declare_receiving_side(pact: Pact, record: MovingRecord, state: str) -> None:
    """What ``status`` and ``backfill`` read of the service taking the capability over, with
    the monolith behind it holding ``record`` (given ``state``) and its sync off."""
    progress = {
        "migration": record.capability,
        "entities": match.each_like(
            {
                "entity": match.str(record.entity),
                "scanned": match.int(1),
                "written": match.int(1),
                "finished": match.bool(True),
            },
            min=1,
        ),
    }
    prefix = f"/internal/migration/{record.capability}"
    (
        pact.upon_receiving(f"the {record.capability} backfill's progress, entity by entity")
        .given(state)
        .with_request("GET", prefix)
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body({"backfill": progress, "sync": None}, content_type="application/json")
    )
    (
        pact.upon_receiving(f"a {record.capability} backfill step: a few pages from the monolith")
        .given(state)
        .with_request("POST", f"{prefix}/backfill")
        .with_query_parameter("pages", str(PAGES_PER_CALL))
        .with_query_parameter("restart", "false")
        .with_header("Authorization", operator_bearer())
        .will_respond_with(200)
        .with_body(progress, content_type="application/json")
    )


def _side(name: str, url: str, record: MovingRecord) -> MigrationSide:
    return MigrationSide(name, url, record.capability, headers={"Authorization": f"Bearer {TOKEN}"})


def reads_the_records_side(name: str, url: str, record: MovingRecord) -> None:
    """The command's reads of a side declared by ``declare_records_side``, as it uses them."""
    with _side(name, url, record) as side:
        assert side.counts()[record.entity] == 1
        checksums = side.checksums(record.entity)
        assert (checksums.count, list(checksums.records)) == (1, [record.record_id])
        found = side.records(record.entity, [record.record_id])
        assert found[record.record_id].data[record.field] == record.value
        assert side.sync() is None


def drives_the_backfill(name: str, url: str, record: MovingRecord) -> None:
    """The command's calls on a service declared by ``declare_receiving_side``."""
    with _side(name, url, record) as side:
        status = side.migration_status()
        assert [e.entity for e in status.backfill.entities] == [record.entity]
        assert status.sync is None
        progress = side.backfill(PAGES_PER_CALL, restart=False)
    assert progress.migration == record.capability
    assert progress.finished
    assert progress.entities[0].scanned == 1
