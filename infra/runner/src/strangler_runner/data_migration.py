"""`strangler migrate billing|auth|notifications status | backfill | verify`: moving a
capability's data, from a terminal.

The monolith and the new service each serve the capability's records under
`/internal/<capability>` (counts, checksums, records, sync); the new service also runs the
backfill from the monolith's export, a few pages per call (`/internal/migration/<capability>`).
These commands drive the backfill, compare both sides and show the sync, and never touch a
database themselves. What differs between capabilities is a `MovingCapability`: its record
contract, the component that takes it over, and the rules its records keep (`BILLING`,
`AUTH`, `NOTIFICATION_MIGRATION`); the mechanism is the same.

`verify` also checks the business rules the records keep on each side on its own: for
billing (`BILLING_INVARIANTS`) at most one successful payment per invoice, refunds never
above the amount paid, one active subscription per customer; for auth (`AUTH_INVARIANTS`)
one account per e-mail address; for notifications (`NOTIFICATIONS_INVARIANTS`) one welcome
mail per user. Two sides that agree can both be wrong.

Exit codes: 0 when done (for `verify`: no drift and no rule broken), 1 when `verify` found
drift or a broken rule (each one named), 2 when a side could not be asked (one line says
which and why), 130 when a backfill is stopped with Ctrl-C (the pages it copied are kept;
running it again continues).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from strangler_contracts.notification_records import NOTIFICATION_RECORDS, NOTIFICATIONS
from strangler_contracts.records import BILLING_RECORDS, RecordContract
from strangler_contracts.user_records import USER_RECORDS, USERS
from strangler_migration import (
    AtMostOne,
    BackfillProgress,
    EntityChecksums,
    EntityDrift,
    Invariant,
    SyncStatus,
    TotalWithin,
    Violation,
    compare_checksums,
    differing_fields,
    violations,
)

from strangler_runner.console import RunnerConsole
from strangler_runner.migration_client import MigrationCallFailed, MigrationSide
from strangler_runner.operator_credential import operator_headers
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import StateDir
from strangler_runner.status import live_run_record

__all__ = [
    "AUTH",
    "AUTH_INVARIANTS",
    "BILLING",
    "BILLING_INVARIANTS",
    "DRIFT",
    "INTERRUPTED",
    "NOTIFICATIONS_INVARIANTS",
    "NOTIFICATION_MIGRATION",
    "UNAVAILABLE",
    "MigrationCommand",
    "MovingCapability",
    "backfill",
    "run_migration",
    "show_status",
    "verify",
]

DRIFT = 1
UNAVAILABLE = 2
INTERRUPTED = 130
LEGACY = "the monolith"
NOTHING = "—"


@dataclass(frozen=True)
class MovingCapability:
    """A capability whose data moves from the monolith to ``component``: its records, where
    that component answers (``address``: the URL given in the settings, else the port), and
    the rules its records keep on each side."""

    records: RecordContract
    component: str
    address: Callable[[RunnerSettings], tuple[str | None, int]]
    invariants: tuple[Invariant, ...]


MigrationCommand = Callable[[MovingCapability, MigrationSide, MigrationSide, RunnerConsole], int]


def _component_url(settings: RunnerSettings, component: str, given: str | None, port: int) -> str:
    """The given URL, else that of the component `strangler up` runs here, else host:port."""
    if given:
        return given
    record = live_run_record(StateDir(settings.state_dir))
    running = next((c for c in record.components if c.name == component), None) if record else None
    if running is not None and "http" in running.urls:
        return running.urls["http"]
    return f"http://{settings.host}:{port}"


def run_migration(
    settings: RunnerSettings,
    console: RunnerConsole,
    capability: MovingCapability,
    command: MigrationCommand,
) -> int:
    """Run one command against both sides; a side failing to answer is one line, exit 2."""
    legacy_url = _component_url(
        settings, "legacy-monolith", settings.monolith_url, settings.monolith_port
    )
    given, port = capability.address(settings)
    new_url = _component_url(settings, capability.component, given, port)
    operator = operator_headers(settings)
    name = capability.records.capability
    try:
        with (
            MigrationSide(LEGACY, legacy_url, name, headers=operator) as legacy,
            MigrationSide(capability.component, new_url, name, headers=operator) as new,
        ):
            return command(capability, legacy, new, console)
    except MigrationCallFailed as failure:
        console.error(str(failure))
        return UNAVAILABLE


# status


def _when(at: datetime | None) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z") if at else NOTHING


def _sync_line(direction: str, status: SyncStatus | None) -> str:
    if status is None:
        return f"{direction}: not running (its sync setting is off)"
    state = "running" if status.running else "STOPPED"
    lag = NOTHING if status.lag is None else str(status.lag)
    last = f"{status.last_event_type or NOTHING} at {_when(status.last_applied_at)}"
    return (
        f"{direction}: {state} (group {status.group}), lag {lag}, applied {status.applied}, "
        f"own skipped {status.skipped_own}, last {last}"
    )


def show_status(
    capability: MovingCapability,
    legacy: MigrationSide,
    new: MigrationSide,
    console: RunnerConsole,
) -> int:
    legacy_counts, new_counts = legacy.counts(), new.counts()
    migration = new.migration_status()
    progress = {entity.entity: entity for entity in migration.backfill.entities}
    rows = []
    for entity in capability.records.entities:
        done = progress.get(entity)
        if done is None or done.updated_at is None:
            backfill, written = "not started", NOTHING
        else:
            backfill = "finished" if done.finished else f"at {done.cursor}"
            backfill += f" ({done.scanned} scanned)"
            written = str(done.written)
        rows.append(
            [
                entity,
                str(legacy_counts.get(entity, 0)),
                str(new_counts.get(entity, 0)),
                backfill,
                written,
            ]
        )
    name = new.name
    console.table(
        ["entity", "monolith", name, "backfill", "written"],
        rows,
        right_aligned=["monolith", name, "written"],
        unbroken=["entity", "monolith", name, "written"],
    )
    console.message(_sync_line(f"sync monolith → {name}", migration.sync))
    console.message(_sync_line(f"sync {name} → monolith", legacy.sync()))
    return 0


# backfill


def backfill(pages_per_call: int, restart: bool) -> MigrationCommand:
    def run(
        capability: MovingCapability,
        legacy: MigrationSide,
        new: MigrationSide,
        console: RunnerConsole,
    ) -> int:
        totals = legacy.counts()
        with console.progress() as bars:
            tasks = {
                entity: bars.add_task(entity, total=totals.get(entity, 0))
                for entity in capability.records.entities
            }

            def show(progress: BackfillProgress) -> None:
                for entity in progress.entities:
                    total = max(totals.get(entity.entity, 0), entity.scanned)
                    done = total if entity.finished else entity.scanned
                    bars.update(tasks[entity.entity], completed=done, total=total)

            progress = new.migration_status().backfill
            if restart:
                progress = new.backfill(pages_per_call, restart=True)
            show(progress)
            try:
                while not progress.finished:
                    before = progress
                    progress = new.backfill(pages_per_call, restart=False)
                    show(progress)
                    if progress == before:
                        console.error(f"the backfill made no progress; see {new.name}'s log")
                        return UNAVAILABLE
            except KeyboardInterrupt:
                console.error("stopped; every page copied is kept: run it again to continue")
                return INTERRUPTED
        _summarise(progress, console)
        return 0

    return run


def _summarise(progress: BackfillProgress, console: RunnerConsole) -> None:
    console.table(
        ["entity", "scanned", "written"],
        [[e.entity, str(e.scanned), str(e.written)] for e in progress.entities],
        right_aligned=["scanned", "written"],
    )
    scanned = sum(e.scanned for e in progress.entities)
    written = sum(e.written for e in progress.entities)
    console.message(
        f"backfill finished: {scanned} records read from the monolith, {written} written"
    )


# verify


BILLING_INVARIANTS: tuple[Invariant, ...] = (
    AtMostOne(
        "at most one successful payment per invoice",
        "payments",
        per="invoice_id",
        where={"status": "succeeded"},
    ),
    TotalWithin(
        "refunds never above the amount paid",
        "refunds",
        total="amount_cents",
        per="invoice_id",
        limit_entity="payments",
        limit="amount_cents",
        limit_per="invoice_id",
        limit_where={"status": "succeeded"},
    ),
    AtMostOne(
        "one active subscription per customer",
        "subscriptions",
        per="user_id",
        where={"status": "active"},
    ),
)
"""What billing's records must keep on each side, whether or not the sides agree."""


def verify(
    capability: MovingCapability,
    legacy: MigrationSide,
    new: MigrationSide,
    console: RunnerConsole,
) -> int:
    entities = capability.records.entities
    sums = {
        side.name: {entity: side.checksums(entity) for entity in entities} for side in (legacy, new)
    }
    drifts = [
        compare_checksums(sums[legacy.name][entity], sums[new.name][entity]) for entity in entities
    ]
    name = new.name
    console.table(
        ["entity", "monolith", name, f"missing in {name}", "missing in monolith", "differing"],
        [
            [
                d.entity,
                str(d.left_count),
                str(d.right_count),
                str(len(d.only_left)),
                str(len(d.only_right)),
                str(len(d.differing)),
            ]
            for d in drifts
        ],
        right_aligned=["monolith", name, f"missing in {name}", "missing in monolith", "differing"],
    )
    drifted = sum(d.drifted for d in drifts)
    if drifted == 0:
        total = sum(d.left_count for d in drifts)
        console.message(f"no drift: both sides hold the same {total} records")
    else:
        console.message(f"{drifted} drifted record{'' if drifted == 1 else 's'}:")
        for drift in drifts:
            for line in _drifted_records(drift, legacy, new):
                console.message(f"  {line}")
    invariants = capability.invariants
    broken = {side.name: _broken_rules(invariants, side, sums[side.name]) for side in (legacy, new)}
    if not any(broken.values()):
        rules = "; ".join(invariant.rule for invariant in invariants)
        console.message(f"business rules hold on both sides: {rules}")
        return DRIFT if drifted else 0
    for side_name, found in broken.items():
        for violation in found:
            console.message(
                f"{side_name} breaks '{violation.rule}': {violation.entity} of "
                f"{violation.key}: {violation.detail}"
            )
    return DRIFT


def _broken_rules(
    invariants: Sequence[Invariant], side: MigrationSide, sums: dict[str, EntityChecksums]
) -> list[Violation]:
    """Every invariant of the capability this side's records break."""
    needed = {entity for invariant in invariants for entity in invariant.entities}
    records = {
        entity: list(side.records(entity, sorted(sums[entity].records)).values())
        for entity in sorted(needed)
    }
    return violations(invariants, records)


def _drifted_records(drift: EntityDrift, legacy: MigrationSide, new: MigrationSide) -> list[str]:
    lines = [f"{drift.entity} {key}: missing in {new.name}" for key in drift.only_left]
    lines += [f"{drift.entity} {key}: missing in the monolith" for key in drift.only_right]
    if drift.differing:
        lines += _differences(drift.entity, drift.differing, legacy, new)
    return lines


def _differences(
    entity: str, keys: Sequence[str], legacy: MigrationSide, new: MigrationSide
) -> list[str]:
    left, right = legacy.records(entity, keys), new.records(entity, keys)
    lines = []
    for key in keys:
        if key not in left or key not in right:  # changed between the checksums and now
            lines.append(f"{entity} {key}: changed while verifying; run verify again")
            continue
        fields = ", ".join(
            f"{d.field} monolith={d.left!r} {new.name}={d.right!r}"
            for d in differing_fields(left[key], right[key])
        )
        stamps = (
            f"v{left[key].version} {left[key].origin} / v{right[key].version} {right[key].origin}"
        )
        lines.append(f"{entity} {key}: {fields or 'same fields now'} ({stamps})")
    return lines


AUTH_INVARIANTS: tuple[Invariant, ...] = (
    AtMostOne("one account per e-mail address", USERS, per="email_key"),
)
"""What account records must keep on each side, whether or not the sides agree."""


BILLING = MovingCapability(
    BILLING_RECORDS, "billing", lambda s: (s.billing_url, s.billing_port), BILLING_INVARIANTS
)
AUTH = MovingCapability(USER_RECORDS, "auth", lambda s: (s.auth_url, s.auth_port), AUTH_INVARIANTS)

NOTIFICATIONS_INVARIANTS: tuple[Invariant, ...] = (
    AtMostOne("one welcome mail per user", NOTIFICATIONS, per="user_id", where={"kind": "welcome"}),
)
"""What the history must keep on each side: a registration is welcomed once, whichever side
sent it (the mail flag's cutover doubles none)."""

NOTIFICATION_MIGRATION = MovingCapability(
    NOTIFICATION_RECORDS,
    "notifications",
    lambda s: (s.notifications_url, s.notifications_port),
    NOTIFICATIONS_INVARIANTS,
)
