"""``make fuzz``: start the whole system on free ports and fuzz every API with schemathesis.

    uv run --frozen python -m tests.fuzz.run [--only API] [--max-examples N] [--output FILE]

Checks: no 5xx, every status and content type documented, every body as documented. Exits 1
if any API fails; the full schemathesis output of each goes to ``--output`` (and stdout), and
the end is a table of the cases schemathesis generated per API.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.fuzz.apis import cases_generated, run_schemathesis, signed_in_token, targets
from tests.support.running_system import start_system, stop_system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-examples", type=int, default=None, help="cases per operation (default: per API)"
    )
    parser.add_argument("--timeout", type=int, default=900, help="seconds per API at most")
    parser.add_argument("--only", action="append", help="fuzz only this API (repeatable)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="strangler-fuzz-"))
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    system = start_system(work / "state")
    failed: list[str] = []
    cases: dict[str, int | None] = {}
    try:
        token = signed_in_token(system)
        for target in targets(system, token):
            if args.only and target.name not in args.only:
                continue
            say(f"\n===== {target.name}: {target.schema_url} against {target.base_url} =====")
            started = time.monotonic()
            result = run_schemathesis(
                target,
                max_examples=args.max_examples or target.examples,
                timeout_seconds=args.timeout,
                report_dir=work,
                seed=args.seed,
            )
            say(result.stdout + result.stderr)
            took = time.monotonic() - started
            try:
                cases[target.name] = cases_generated(result.stdout)
            except ValueError:
                cases[target.name] = None
            generated = cases[target.name]
            say(
                f"----- {target.name}: exit {result.returncode}, "
                f"{'no summary' if generated is None else generated} cases in {took:.0f} s"
            )
            if result.returncode != 0:
                failed.append(target.name)
    finally:
        stop_system(system)
    say("\nCases generated per API:")
    for name, generated in cases.items():
        say(f"  {name:<24} {'no summary' if generated is None else generated:>6}")
    say(f"  {'total':<24} {sum(n or 0 for n in cases.values()):>6}")
    say(f"\nfailed: {', '.join(failed) or 'none'}")
    if args.output is not None:
        args.output.write_text("\n".join(lines) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
