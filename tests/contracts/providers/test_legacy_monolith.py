"""The monolith honours every pact that names it: the backfills of billing, auth and
notifications (its exports) and the ``strangler`` command's (its data-migration endpoints
for each capability it hands over)."""

from __future__ import annotations

from pathlib import Path

from tests.contracts.providers.monolith_state import (
    OPERATOR_TOKEN,
    first_record_ids,
    monolith_process,
    register_customer,
)
from tests.contracts.verification import verify

# The records the command's requests name: the first each export answers.
EXPORTS = {"billing": ["customers"], "auth": ["users"], "notifications": ["notifications"]}


def test_the_monolith_honours_its_consumers(tmp_path: Path) -> None:
    with monolith_process(tmp_path) as monolith:

        def one_customer() -> dict[str, object]:
            register_customer(monolith.url)
            return {"operator_token": OPERATOR_TOKEN, **first_record_ids(monolith.url, EXPORTS)}

        verification = verify(
            "legacy-monolith",
            monolith.url,
            states={"one customer is registered at the monolith": one_customer},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 15
