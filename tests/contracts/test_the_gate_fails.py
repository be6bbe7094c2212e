"""The gate fails, and says where, when a provider breaks what a consumer relies on.

Two breaking provider changes, each in a temporary copy of the provider's package put first
on ``PYTHONPATH`` (so the process the verification starts runs the broken code):

- a renamed response field: the payment simulator's charge answer says ``currency_code``
  where billing's client reads ``currency``;
- a removed event attribute: ``UserRegistered`` (strangler_contracts, as the monolith
  publishes it) leaves out ``display_name``, which billing makes the customer's name.

One gate run verifies both providers; it must fail, naming each pair, interaction and field.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR = ROOT / "infra" / "payment-simulator" / "src" / "payment_simulator"
CONTRACTS = ROOT / "libs" / "contracts" / "src" / "strangler_contracts"


def _edited_copy(package: Path, into: Path, file: str, old: str, new: str) -> None:
    copy = into / package.name
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    source = (copy / file).read_text()
    assert source.count(old) == 1, f"{file} changed: the test's edit no longer applies"
    (copy / file).write_text(source.replace(old, new))


def _broken_providers(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    _edited_copy(
        SIMULATOR,
        src,
        "schemas.py",
        "    currency: str\n    card_last4: str\n    description: str | None\n",
        "    currency_code: str\n    card_last4: str\n    description: str | None\n",
    )
    simulator_schemas = src / SIMULATOR.name / "schemas.py"
    simulator_schemas.write_text(
        simulator_schemas.read_text().replace(
            "currency=charge.currency,", "currency_code=charge.currency,"
        )
    )
    _edited_copy(
        CONTRACTS,
        src,
        "events/accounts.py",
        "    email: str\n    display_name: str\n    registered_at: datetime\n    origin:",
        "    email: str\n    display_name: str = Field(exclude=True)\n"
        "    registered_at: datetime\n    origin:",
    )
    return src


# Two provider processes and a pact run in a child process: longer than a unit test's 120 s
# when the machine is shared.
@pytest.mark.timeout(400)
def test_breaking_provider_changes_fail_the_gate_naming_the_field(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(_broken_providers(tmp_path)), str(ROOT)]),
        "STRANGLER_PACT_DIR": str(tmp_path / "pacts"),
        "PACT_DO_NOT_TRACK": "true",
    }
    gate = subprocess.run(
        [
            sys.executable,
            *("-m", "tests.contracts.gate"),
            *("--provider", "payment-simulator"),
            *("--provider", "legacy-monolith-events"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )
    output = gate.stdout
    assert gate.returncode == 1, output + gate.stderr
    assert re.search(r"billing → payment-simulator\s+5 interaction\(s\)\s+BROKEN", output)
    assert (
        "billing → payment-simulator | Verifying a pact between billing and payment-simulator "
        "Given the card 4242424242424242 is approved - a charge on an approved card | "
        "$: Actual map is missing the following keys: currency" in output
    ), output
    assert re.search(r"billing → legacy-monolith-events\s+\d+ interaction\(s\)\s+BROKEN", output)
    assert (
        "billing → legacy-monolith-events | Verifying a pact between billing and "
        "legacy-monolith-events Given a user registers at the monolith - a UserRegistered "
        "event | $.data: Actual map is missing the following keys: display_name" in output
    ), output
    assert "contracts gate: FAILED" in output
