"""Where pacts are written and read: a build directory, never committed.

A consumer's test writes its pact there; the provider's verification reads every pact naming
it from there. In the production-like profile the same files are published to a Pact Broker
instead (``STRANGLER_PACT_BROKER_URL``, see README "Contracts in CI").
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PACT_DIR", "pact_dir"]

ROOT = Path(__file__).resolve().parents[2]
PACT_DIR = ROOT / ".strangler" / "pacts"


def pact_dir() -> Path:
    """``STRANGLER_PACT_DIR`` if set (the gate's failure proof points it at a copy), else
    ``.strangler/pacts`` at the repository root."""
    chosen = Path(os.environ.get("STRANGLER_PACT_DIR", PACT_DIR))
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen
