"""How fast do the monolith and billing answer a one-query read, beside their own health check?

    .venv/bin/python bench/reads.py [--seconds S] [--connections C]
                                          [--database sqlite|postgres|both] [--quick] [--timeout S]
    make bench-reads BENCH_READS_ARGS="--quick"

For each component (``legacy-monolith``, ``billing-service``) and each database (a SQLite
file; a fresh PostgreSQL database on 127.0.0.1:5432, user postgres, dropped afterwards) one
run prepares the database (``prepare``: migrations and the plan catalogue), starts ``serve``
as a real process on a free 127.0.0.1 port with its background loops off (no broker is
needed: nothing is published or consumed by a read), and loads it with wrk:

- ``GET /health/live``: the same process's floor — the server, the framework and the
  middleware stack, no database;
- ``GET /api/billing/plans``: the public plan catalogue, a page of three rows read from the
  database (a count and a select), serialised as JSON.

Each path gets a warm-up and then C connections (16) for S seconds (5), and the process's CPU
(utime + stime from ``/proc/<pid>/stat``) is divided by the requests wrk completed. The
figures printed are the read's requests/s, the health check's requests/s in the same run,
their ratio, and the verdict against issue 12's target: >= 1,500 reads/s on one process.

wrk is installed from Debian's packages (``apt-get``) when it is not on PATH
(``bench/gateway.py``'s helper).

``--against REV`` measures a before/after on a busy machine: the workspace's sources at git
revision REV (``git archive``; or a folder of packages' ``src`` folders, the rest this
checkout's) run as a second process beside this checkout's, on the same
database, and the passes alternate — this checkout's health check and read, then REV's, for
``--rounds`` rounds — so both see the same load; the table gets a row per revision and the
CPU per read of this checkout over REV's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import statistics
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from harness import (
    HOST,
    BenchFailed,
    Children,
    Column,
    bench_arguments,
    console_script,
    cpu_seconds,
    free_ports,
    load_average,
    machine_note,
    print_notes,
    print_table,
    ratio,
    run_bench,
    run_step,
    verdict,
)

from gateway import Load, Wrk, ensure_commands, wait_ready

POSTGRES_URL = os.environ.get(
    "STRANGLER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
READ_PATH = "/api/billing/plans"
FLOOR_PATH = "/health/live"
TARGET_READS_PER_SECOND = 1500.0
SECRET = "bench-reads-" + "0" * 32


@dataclass(frozen=True)
class Settings:
    seconds: int
    warm_up_seconds: int
    connections: int
    databases: tuple[str, ...]
    timeout: float
    against: str | None = None
    rounds: int = 1


@dataclass(frozen=True)
class Component:
    name: str
    command: str
    prefix: str
    settings: Mapping[str, str]
    """Its environment beyond the database URL: secrets, and every loop that needs a broker off."""


COMPONENTS = (
    Component(
        "monolith",
        "legacy-monolith",
        "MONOLITH_",
        {
            "JWT_SECRET": SECRET,
            "OPERATOR_TOKEN": SECRET,
            "OUTBOX_RELAY_ENABLED": "false",
        },
    ),
    Component(
        "billing",
        "billing-service",
        "BILLING_",
        {
            "JWT_SECRET": SECRET,
            "OPERATOR_TOKEN": SECRET,
            "OUTBOX_RELAY_ENABLED": "false",
            "REGISTRATIONS_ENABLED": "false",
            "LEGACY_SYNC_ENABLED": "false",
            "SAGAS_ENABLED": "false",
        },
    ),
)


# ---------------------------------------------------------------- databases


async def _postgres(statement: str) -> str:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(statement)
        version: str = await connection.fetchval("SHOW server_version")
        return version
    finally:
        await connection.close()


@contextlib.contextmanager
def database(kind: str, folder: Path, component: str) -> Iterator[tuple[str, str]]:
    """``(SQLAlchemy URL, description)`` of an empty database for ``component``."""
    if kind == "sqlite":
        path = folder / f"{component}.db"
        yield f"sqlite+aiosqlite:///{path}", f"SQLite {sqlite3.sqlite_version}"
        return
    name = f"bench_reads_{component}_{uuid.uuid4().hex[:10]}"
    version = asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
    try:
        base = POSTGRES_URL.split("://", 1)[1].rsplit("/", 1)[0]
        yield f"postgresql+asyncpg://{base}/{name}", f"PostgreSQL {version}"
    finally:
        asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Pass:
    load: Load
    cpu: float

    @property
    def cpu_per_request(self) -> float | None:
        return self.cpu / self.load.requests if self.load.requests else None


@dataclass(frozen=True)
class Result:
    component: str
    database: str
    floor: Pass
    read: Pass
    revision: str | None = None
    """The git revision it ran, for ``--against``'s baseline; None: this checkout."""

    @property
    def process(self) -> str:
        at = f" @{self.revision}" if self.revision else ""
        return f"{self.component} ({self.database}){at}"


def combined(passes: Sequence[Pass]) -> Pass:
    """Several passes of one path as one: requests, seconds and CPU summed, median latencies."""
    loads = [p.load for p in passes]
    return Pass(
        Load(
            connections=loads[0].connections,
            requests=sum(load.requests for load in loads),
            seconds=sum(load.seconds for load in loads),
            p50=statistics.median(load.p50 for load in loads),
            p99=statistics.median(load.p99 for load in loads),
            status_errors=sum(load.status_errors for load in loads),
            socket_errors=sum(load.socket_errors for load in loads),
        ),
        sum(p.cpu for p in passes),
    )


def export_revision(revision: str, folder: Path) -> str:
    """The workspace's sources at ``revision``, unpacked under ``folder``: the PYTHONPATH that
    makes a console script of this virtualenv run them instead of this checkout's. A folder
    instead of a revision: the packages' sources in it (``<package>/src``), the others this
    checkout's."""
    target = Path(revision)
    if not target.is_dir():
        root = Path(__file__).resolve().parent.parent
        target = folder / "revision"
        target.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", revision],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True, timeout=120)
    sources = sorted({*target.glob("*/src"), *target.glob("*/*/src")})
    if not sources:
        raise BenchFailed(f"no package sources at {revision}")
    return os.pathsep.join(str(source) for source in sources)


def environment(component: Component, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(component.prefix)}
    env.update({component.prefix + key: value for key, value in component.settings.items()})
    env[component.prefix + "DATABASE_URL"] = url
    return env


def load_pass(
    wrk: Wrk, url: str, pid: int, settings: Settings, name: str, children: Children
) -> Pass:
    wrk.run(url, settings.connections, settings.warm_up_seconds)
    before = cpu_seconds(pid)
    load = wrk.run(url, settings.connections, settings.seconds)
    cpu = cpu_seconds(pid) - before
    if load.requests == 0 or load.status_errors or load.socket_errors:
        raise BenchFailed(
            f"{url}: {load.requests} requests, {load.status_errors} non-2xx, "
            f"{load.socket_errors} socket errors\n{children.tail(name)}"
        )
    return Pass(load, cpu)


def measure(
    component: Component, kind: str, folder: Path, wrk: Wrk, settings: Settings,
    children: Children, descriptions: dict[str, str], pythonpath: str | None = None,
) -> list[Result]:  # fmt: skip
    """The component's process on a fresh database; with ``pythonpath`` (``--against``), REV's
    process beside it on the same database, their passes alternating for ``--rounds``."""
    name = f"{component.name}-{kind}"
    print(f"  {name}{f', and at {settings.against}' if pythonpath else ''} ...", flush=True)
    with database(kind, folder, component.name) as (url, description):
        descriptions[kind] = description
        env = environment(component, url)
        command = console_script(component.command)
        run_step([command, "prepare"], env, timeout=180)
        variants = {name: env}
        if pythonpath is not None:
            variants[f"{name}-rev"] = {**env, "PYTHONPATH": pythonpath}
        bases: dict[str, tuple[str, int]] = {}
        passes: dict[str, tuple[list[Pass], list[Pass]]] = {}
        try:
            for variant, variant_env in variants.items():
                (port,) = free_ports(1)
                argv = [command, "serve", "--host", HOST, "--port", str(port)]
                process = children.start(variant, argv, variant_env)
                bases[variant] = f"http://{HOST}:{port}", process.pid
                wait_ready(f"{bases[variant][0]}/health/ready", process, variant, children)
                passes[variant] = ([], [])
            for _ in range(settings.rounds if pythonpath else 1):
                for variant, (base, pid) in bases.items():
                    for path, kept in zip((FLOOR_PATH, READ_PATH), passes[variant], strict=True):
                        kept.append(load_pass(wrk, base + path, pid, settings, variant, children))
        finally:
            for variant in variants:
                children.stop(variant)
    return [
        Result(component.name, kind, combined(floors), combined(reads),
               revision=settings.against if variant.endswith("-rev") else None)
        for variant, (floors, reads) in passes.items()
    ]  # fmt: skip


def us(seconds: float | None) -> str:
    return f"{seconds * 1e6:.0f}" if seconds is not None else "-"


def print_report(results: Sequence[Result], settings: Settings, notes: Mapping[str, str]) -> None:
    print()
    print(f"GET {READ_PATH} beside GET {FLOOR_PATH} of the same process: {settings.connections} "
          f"connections as fast as they go, {settings.seconds} s each")  # fmt: skip
    print_table(
        [Column("process", 30 if settings.against else 20, left=True),
         Column("live req/s", 11), Column("read req/s", 11),
         Column("read ÷ live", 12), Column("live CPU µs", 12), Column("read CPU µs", 12),
         Column("read p50 ms", 12), Column("target", 9), Column("met", 5)],
        [
            (r.process, f"{r.floor.load.rate:.0f}",
             f"{r.read.load.rate:.0f}", ratio(r.read.load.rate, r.floor.load.rate),
             us(r.floor.cpu_per_request), us(r.read.cpu_per_request),
             f"{r.read.load.p50 * 1000:.2f}", f">= {TARGET_READS_PER_SECOND:.0f}",
             verdict(r.read.load.rate >= TARGET_READS_PER_SECOND))
            for r in results
        ],
    )  # fmt: skip
    print()
    print("CPU µs: the process's CPU per request (utime + stime); its ratio is the cost of the "
          "read over the framework's floor, whatever the machine's load.")  # fmt: skip
    print()
    if settings.against:
        print_against(results, settings)
    print_notes(notes)


def print_against(results: Sequence[Result], settings: Settings) -> None:
    baselines = {(r.component, r.database): r for r in results if r.revision}
    rev = settings.against
    print(f"This checkout beside {rev}, passes alternating ({settings.rounds} rounds of "
          f"{settings.seconds} s a path each): CPU per request, this ÷ {rev}")  # fmt: skip
    print_table(
        [Column("process", 20, left=True), Column("read CPU µs", 12), Column("at rev", 12),
         Column("read ÷ rev", 11), Column("live CPU µs", 12), Column("at rev", 12),
         Column("live ÷ rev", 11)],
        [
            (f"{r.component} ({r.database})",
             us(r.read.cpu_per_request), us(b.read.cpu_per_request),
             ratio(r.read.cpu_per_request or 0, b.read.cpu_per_request or 0),
             us(r.floor.cpu_per_request), us(b.floor.cpu_per_request),
             ratio(r.floor.cpu_per_request or 0, b.floor.cpu_per_request or 0))
            for r in results
            if not r.revision and (b := baselines[(r.component, r.database)])
        ],
    )  # fmt: skip
    print()


def run(settings: Settings, folder: Path, children: Children) -> None:
    tools = ensure_commands(["wrk"])
    load_before = load_average()
    wrk = Wrk(tools["wrk"], folder)
    descriptions: dict[str, str] = {}
    pythonpath = export_revision(settings.against, folder) if settings.against else None
    results = [
        result
        for kind in settings.databases
        for component in COMPONENTS
        for result in measure(
            component, kind, folder, wrk, settings, children, descriptions, pythonpath
        )
    ]
    notes = {
        **machine_note(load_before),
        "load": f"{wrk.version()}, 1 thread, on the same machine",
        "databases": "; ".join(descriptions.values()),
        "processes": "one `serve` process each (uvicorn), background loops off, access log on",
    }
    print_report(results, settings, notes)


def parse_arguments(argv: Sequence[str] | None = None) -> Settings:
    parser = bench_arguments(__doc__, timeout=900.0)
    parser.add_argument("--seconds", type=int, default=5, help="seconds per pass (wrk -d)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--against", metavar="REV", help="a git revision (or a folder of sources) to measure beside"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="with --against: alternating passes per path"
    )
    arguments = parser.parse_args(argv)
    seconds = 1 if arguments.quick else arguments.seconds
    if seconds < 1 or arguments.connections < 1 or arguments.rounds < 1 or arguments.timeout <= 0:
        parser.error("--seconds, --connections and --rounds must be at least 1, --timeout positive")
    databases = ("sqlite", "postgres") if arguments.database == "both" else (arguments.database,)
    return Settings(
        seconds=seconds,
        warm_up_seconds=1 if arguments.quick else 2,
        connections=arguments.connections,
        databases=databases,
        timeout=arguments.timeout,
        against=arguments.against,
        rounds=1 if arguments.quick else arguments.rounds,
    )


def main() -> int:
    settings = parse_arguments()
    return run_bench(
        lambda folder, children: run(settings, folder, children), settings.timeout, name="reads"
    )


if __name__ == "__main__":
    sys.exit(main())
