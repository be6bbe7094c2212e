"""The contracts gate: every consumer's pact against every provider at this commit.

    .venv/bin/python -m tests.contracts.gate [--provider NAME ...]

1. Empties the pact directory (``.strangler/pacts``, or ``STRANGLER_PACT_DIR``) and runs the
   consumer tests (tests/contracts/consumers): each writes its pact.
2. Runs the provider verifications (tests/contracts/providers): each replays the pacts naming
   it against the real provider process and records what broke.
3. Prints the matrix — consumer → provider, interactions, verified or BROKEN — and, when
   anything broke, a table naming the interaction and the field; exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.contracts.pacts import pact_dir

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# Which provider verification replays which provider's pacts.
PROVIDER_TESTS = {
    "payment-simulator": "providers/test_payment_simulator.py",
    "auth": "providers/test_auth.py",
    "legacy-monolith": "providers/test_legacy_monolith.py",
    "legacy-monolith-events": "providers/test_legacy_monolith_events.py",
    "gateway": "providers/test_gateway.py",
    "gateway-admin": "providers/test_gateway_admin.py",
    "auth-events": "providers/test_auth_events.py",
    "billing": "providers/test_billing.py",
    "billing-events": "providers/test_billing_events.py",
    "notifications": "providers/test_notifications.py",
    "smtp-sink": "providers/test_smtp_sink.py",
    "notifications-events": "providers/test_notifications_events.py",
}


def _pytest(*paths: str) -> int:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def _consumer_tests(providers: list[str]) -> list[str]:
    """Every consumer test, or those whose pacts name one of ``providers``."""
    tests = sorted((HERE / "consumers").glob("test_*.py"))
    if providers == list(PROVIDER_TESTS):
        return [str(t) for t in tests]
    return [
        str(t) for t in tests if any(f'"{provider}"' in t.read_text() for provider in providers)
    ]


def matrix(providers: list[str]) -> tuple[list[tuple[str, str, int, str]], list[dict[str, str]]]:
    """(consumer, provider, interactions, verdict) per pact, and every broken interaction."""
    directory = pact_dir()
    rows, broken = [], []
    for path in sorted(directory.glob("*.json")):
        pact = json.loads(path.read_text())
        consumer, provider = pact["consumer"]["name"], pact["provider"]["name"]
        if provider not in providers:
            continue
        result_path = directory / "results" / f"{provider}.json"
        if not result_path.exists():
            verdict = "NOT VERIFIED"
        else:
            result = json.loads(result_path.read_text())
            mine = [b for b in result["broken"] if b["consumer"] == consumer]
            broken.extend(mine)
            verdict = "BROKEN" if mine else "verified"
        rows.append((consumer, provider, len(pact["interactions"]), verdict))
    return rows, broken


def report(rows: list[tuple[str, str, int, str]], broken: list[dict[str, str]]) -> str:
    lines = ["", "Contracts matrix (consumer → provider):"]
    width = max((len(f"{c} → {p}") for c, p, _, _ in rows), default=10)
    for consumer, provider, interactions, verdict in rows:
        pair = f"{consumer} → {provider}"
        lines.append(f"  {pair:<{width}}  {interactions:>2} interaction(s)  {verdict}")
    if broken:
        lines += ["", "Broken interactions (consumer → provider | interaction | field: mismatch):"]
        lines += [
            f"  {b['consumer']} → {b['provider']} | {b['interaction']} | {b['mismatch']}"
            for b in broken
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", action="append", choices=sorted(PROVIDER_TESTS))
    args = parser.parse_args(argv)
    providers = args.provider or list(PROVIDER_TESTS)
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    directory = pact_dir()
    shutil.rmtree(directory)
    directory.mkdir(parents=True)
    consumers_failed = _pytest(*_consumer_tests(providers))
    providers_failed = _pytest(*(str(HERE / PROVIDER_TESTS[p]) for p in providers))
    rows, broken = matrix(providers)
    print(report(rows, broken))
    failed = consumers_failed or providers_failed or broken or not rows
    failed = failed or any(verdict != "verified" for *_, verdict in rows)
    print("\ncontracts gate:", "FAILED" if failed else "passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
