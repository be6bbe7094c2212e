"""How long does `strangler up` take until the whole system is healthy, and what does it hold?

    .venv/bin/python bench/startup.py [--runs N] [--quick] [--baseline PATH]
    make bench-startup BENCH_STARTUP_ARGS="--quick"

Each run starts `strangler up` on free 127.0.0.1 ports with a new, empty state folder (so
every database is created, migrated and seeded, as on a first `make run`), and measures:

- **time to healthy**: from starting the runner until its run record (`run.json` in the
  state folder) says `running`, which it writes once every component answered its health
  probe and every start-up step (topics, migrations, seeds) exited 0;
- **CPU until healthy**: the CPU time of the runner's process tree at that moment, the start-up
  steps it has finished included: what a busy machine shares out, so it moves far less with
  the load than the time does;
- **RSS per component**: the resident set of each component's process tree (the process the
  runner started and everything it spawned, added up), read 2 s after healthy; the runner's
  own beside them;
- **time to stop**: from SIGTERM to the runner until it has exited, every component with it.

It prints the median of N runs (5; `--quick`: 1). With `--baseline PATH` (another
`strangler` executable, e.g. that of a worktree of the parent commit), the runs alternate
between the two and the table shows both and their ratio: the before/after of a change,
measured on the same machine at the same time.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
    verdict,
)
from local_processes import process_tree, resident_bytes

HEALTHY_TIMEOUT_SECONDS = 300.0
SETTLE_SECONDS = 2.0
STOP_TIMEOUT_SECONDS = 90.0
POLL_SECONDS = 0.05
MIB = 1024 * 1024
TARGET_HEALTHY_SECONDS = 10.0
TARGET_TOTAL_MIB = 650.0
PORT_SETTINGS = (
    "broker_port",
    "monolith_port",
    "auth_port",
    "billing_port",
    "notifications_port",
    "gateway_port",
    "gateway_admin_port",
    "payment_simulator_port",
    "smtp_port",
    "mail_ui_port",
)
RUNNER = "runner"


@dataclass
class Run:
    healthy_seconds: float
    cpu_seconds: float
    stop_seconds: float
    rss_mib: dict[str, float]


@dataclass
class Subject:
    """One `strangler` executable and the runs measured with it."""

    label: str
    strangler: str
    runs: list[Run] = field(default_factory=list)

    def median_healthy(self) -> float:
        return statistics.median(run.healthy_seconds for run in self.runs)

    def median_cpu(self) -> float:
        return statistics.median(run.cpu_seconds for run in self.runs)

    def median_stop(self) -> float:
        return statistics.median(run.stop_seconds for run in self.runs)

    def median_rss(self, component: str) -> float | None:
        values = [run.rss_mib[component] for run in self.runs if component in run.rss_mib]
        return statistics.median(values) if values else None

    def median_total(self) -> float:
        return statistics.median(
            sum(mib for name, mib in run.rss_mib.items() if name != RUNNER) for run in self.runs
        )

    def components(self) -> list[str]:
        return list(self.runs[0].rss_mib) if self.runs else []


def runner_env(state_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRANGLER_")}
    env.update(
        {
            "STRANGLER_HOST": HOST,
            "STRANGLER_STATE_DIR": str(state_dir),
            "STRANGLER_HEALTH_TIMEOUT_SECONDS": str(HEALTHY_TIMEOUT_SECONDS),
        }
    )
    ports = free_ports(len(PORT_SETTINGS))
    env.update(
        {
            f"STRANGLER_{setting.upper()}": str(port)
            for setting, port in zip(PORT_SETTINGS, ports, strict=True)
        }
    )
    return env


def read_run_record(state_dir: Path) -> Mapping[str, object] | None:
    try:
        record = json.loads((state_dir / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def measure_once(subject: Subject, index: int, folder: Path, children: Children) -> Run:
    state_dir = folder / f"{subject.label}-{index}"
    name = f"{subject.label}-{index}"
    started = time.perf_counter()
    runner = children.start(name, [subject.strangler, "up"], runner_env(state_dir))
    record = None
    while True:
        record = read_run_record(state_dir)
        if record is not None and record.get("phase") == "running":
            break
        if runner.poll() is not None:
            raise BenchFailed(f"`strangler up` exited with {runner.returncode}:\n"
                              f"{children.tail(name)}")  # fmt: skip
        if time.perf_counter() - started > HEALTHY_TIMEOUT_SECONDS:
            raise BenchFailed(f"not healthy after {HEALTHY_TIMEOUT_SECONDS:g} s:\n"
                              f"{children.tail(name)}")  # fmt: skip
        time.sleep(POLL_SECONDS)
    healthy = time.perf_counter() - started
    cpu = cpu_seconds(runner.pid)
    time.sleep(SETTLE_SECONDS)
    components = record.get("components")
    assert isinstance(components, list)
    rss = {
        str(component["name"]): resident_bytes(process_tree(int(component["pid"]))) / MIB
        for component in components
    }
    rss[RUNNER] = resident_bytes([runner.pid]) / MIB
    stopping = time.perf_counter()
    children.stop(name, STOP_TIMEOUT_SECONDS)
    stopped = time.perf_counter() - stopping
    print(f"  {subject.label} run {index + 1}: healthy in {healthy:.2f} s, "
          f"{cpu:.1f} CPU-s, {sum(v for k, v in rss.items() if k != RUNNER):.0f} MiB, "
          f"stopped in {stopped:.2f} s", flush=True)  # fmt: skip
    return Run(healthy, cpu, stopped, rss)


def print_report(subjects: Sequence[Subject], notes: dict[str, str]) -> None:
    current = subjects[0]
    baseline = subjects[1] if len(subjects) > 1 else None
    columns = [Column("figure (median)", 34, left=True), Column(current.label, 12)]
    if baseline is not None:
        width = max(12, len(baseline.label) + 1)  # a long --baseline-label keeps its column apart
        columns += [Column(baseline.label, width), Column("ratio", 8)]
    columns.append(Column("target", 12))
    columns.append(Column("met", 6))

    def row(label: str, value: float | None, base: float | None, unit: str, target: str = "",
            met: bool | None = None) -> list[str]:  # fmt: skip
        def shown(figure: float | None) -> str:
            return "-" if figure is None else f"{figure:.1f}{unit}"

        cells = [label, shown(value)]
        if baseline is not None:
            cells += [shown(base), ratio(value, base)]
        return [*cells, target, "" if met is None else verdict(met)]

    names = list(
        dict.fromkeys([*current.components(), *(baseline.components() if baseline else [])])
    )
    rows = [
        row("time to healthy", current.median_healthy(),
            baseline.median_healthy() if baseline else None, " s",
            f"< {TARGET_HEALTHY_SECONDS:g} s", current.median_healthy() < TARGET_HEALTHY_SECONDS),
        row("CPU used until healthy", current.median_cpu(),
            baseline.median_cpu() if baseline else None, " s"),
        row("RSS, every component", current.median_total(),
            baseline.median_total() if baseline else None, " MiB",
            f"< {TARGET_TOTAL_MIB:g} MiB", current.median_total() < TARGET_TOTAL_MIB),
        *(
            row(f"  RSS {name}", current.median_rss(name),
                baseline.median_rss(name) if baseline else None, " MiB")
            for name in names
        ),
        row("time to stop", current.median_stop(),
            baseline.median_stop() if baseline else None, " s"),
    ]  # fmt: skip
    print()
    print_table(columns, rows)
    print("ratio = this / baseline: below 1 is better. RSS of a component: its process tree,")
    print(f"{SETTLE_SECONDS:g} s after healthy (shared pages count once per process). CPU: the")
    print("runner's process tree, finished start-up steps included; on an idle machine the time")
    print("to healthy cannot be below it divided by the number of cores.")
    print("The targets are issue 9's for the whole system (auth and notifications included).")
    print()
    print_notes(notes)


def main() -> int:
    parser = bench_arguments(__doc__, timeout=1800)
    parser.add_argument("--runs", type=int, default=5, help="runs per executable (5; quick 1)")
    parser.add_argument("--strangler", default=console_script("strangler"),
                        help="the `strangler` measured (default: this workspace's)")  # fmt: skip
    parser.add_argument("--label", default="this", help="its name in the table")
    parser.add_argument("--baseline", help="another `strangler` to compare with")
    parser.add_argument("--baseline-label", default="baseline", help="its name in the table")
    arguments = parser.parse_args()
    runs = 1 if arguments.quick else arguments.runs
    if runs < 1:
        parser.error("--runs must be at least 1")
    subjects = [Subject(arguments.label, arguments.strangler)]
    if arguments.baseline:
        subjects.append(Subject(arguments.baseline_label, arguments.baseline))
    for subject in subjects:
        if not Path(subject.strangler).is_file():
            parser.error(f"{subject.strangler} not found")

    def measure(folder: Path, children: Children) -> None:
        load_before = load_average()
        for index in range(runs):
            for subject in subjects:
                subject.runs.append(measure_once(subject, index, folder, children))
        notes = machine_note(load_before)
        notes["runs"] = f"{runs} per executable, alternating; each in a new state folder"
        for subject in subjects:
            notes[subject.label] = subject.strangler
        print_report(subjects, notes)

    return run_bench(measure, arguments.timeout, name="startup")


if __name__ == "__main__":
    sys.exit(main())
