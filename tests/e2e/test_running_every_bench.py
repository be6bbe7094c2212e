"""Every script in bench/ still runs: its `--quick` mode completes and prints what a bench
owes its reader — figures beside a same-run baseline as ratios, the machine's load, and a
table of targets whose last column is `yes` or `NO`. Which verdict it prints is the machine's
business, not this test's: no timing is asserted here (speed belongs in the benches)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BENCHES = sorted(path for path in (ROOT / "bench").glob("*.py") if path.name != "harness.py")
BENCH_TIMEOUT_SECONDS = 300
"""Given to the bench as `--timeout`: it stops its own children and exits 1 after it. Room
for gateway.py to apt-get nginx and wrk on a fresh machine first."""
KILL_AFTER_SECONDS = BENCH_TIMEOUT_SECONDS + 120
"""The harness gives a bench 60 s more for its cleanup; past this, the test stops it."""
VERDICTS = {"yes", "NO"}
STRANGLER = str(Path(sys.executable).parent / "strangler")
SAME_RUN_BASELINE = {"startup": ["--baseline", STRANGLER]}
"""startup.py's baseline is another `strangler` (a before/after): here the same one."""


def run_quick(bench: Path) -> subprocess.CompletedProcess[str]:
    """`python bench/NAME.py --quick`, its output; SIGTERM (the bench then stops its own
    children), then SIGKILL, if it overruns."""
    argv = [sys.executable, str(bench), "--quick", "--timeout", str(BENCH_TIMEOUT_SECONDS),
            *SAME_RUN_BASELINE.get(bench.stem, [])]  # fmt: skip
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=KILL_AFTER_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        pytest.fail(f"{bench.name} --quick still running after {KILL_AFTER_SECONDS} s:\n{output}")
    return subprocess.CompletedProcess(argv, process.returncode, output)


def is_rule(line: str) -> bool:
    return len(line) >= 10 and set(line) == {"-"}


def tables(output: str) -> list[tuple[str, list[str]]]:
    """Each printed table: its heading (the lines above a rule of dashes, back to a blank
    line) and its rows (the lines below it, up to a blank line or the closing rule)."""
    lines = output.splitlines()
    found: list[tuple[str, list[str]]] = []
    for i, line in enumerate(lines):
        if i == 0 or not is_rule(line) or not lines[i - 1].strip() or is_rule(lines[i - 1]):
            continue
        top = i - 1
        while top > 0 and lines[top - 1].strip() and not is_rule(lines[top - 1]):
            top -= 1
        rows: list[str] = []
        for row in lines[i + 1 :]:
            if not row.strip() or is_rule(row.strip()):
                break
            rows.append(row)
        found.append(("\n".join(lines[top:i]), rows))
    return found


def test_tables_are_read_from_a_bench_s_output() -> None:
    output = (
        "one run, one broker\n"
        "figure      event path  ratio\n"
        "------------------------------\n"
        "end to end        40.8  0.007\n"
        "\n"
        "target            measured  met\n"
        "-------------------------------\n"
        "end to end (/s)         41   NO\n"
        "p99 (ms)              12.0  yes\n"
    )

    assert tables(output) == [
        (
            "one run, one broker\nfigure      event path  ratio",
            ["end to end        40.8  0.007"],
        ),
        (
            "target            measured  met",
            ["end to end (/s)         41   NO", "p99 (ms)              12.0  yes"],
        ),
    ]


@pytest.mark.parametrize("bench", BENCHES, ids=[path.stem for path in BENCHES])
def test_a_bench_s_quick_mode_prints_ratios_load_and_verdicts(bench: Path) -> None:
    completed = run_quick(bench)

    output = completed.stdout
    assert completed.returncode == 0, (
        f"{bench.name} --quick exited {completed.returncode}:\n{output}"
    )
    printed = tables(output)
    assert any("ratio" in heading or "÷" in heading for heading, _ in printed), (
        f"{bench.name} printed no table with a ratio column:\n{output}"
    )
    assert any(row.split()[-1] in VERDICTS for _, rows in printed for row in rows), (
        f"{bench.name} printed no table whose last column is yes/NO:\n{output}"
    )
    assert "load average" in output, f"{bench.name} did not print the machine's load:\n{output}"
