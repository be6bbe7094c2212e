"""The monolith as provider states need it: a real ``legacy-monolith`` process, and a customer
registered there through its own API.

Its own verification replays the pacts naming it against it; billing's, auth's and
notifications' start one behind them, so that a backfill the ``strangler`` command drives
reads a real export. The export names the records a state registered: a state answers their
ids (``{capability}_{entity}_id``) for the requests that look them up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.contracts.verification import provider_process
from tests.support.service_process import ServiceProcess

__all__ = [
    "JWT_SECRET",
    "OPERATOR_TOKEN",
    "first_record_ids",
    "monolith_process",
    "register_customer",
]

OPERATOR_TOKEN = "contract-operator-token-0123456789"
JWT_SECRET = "contract-jwt-secret-0123456789abcdef"
EMAIL, PASSWORD = "ada@example.com", "a-long-password-1"


@contextmanager
def monolith_process(log_dir: Path) -> Iterator[ServiceProcess]:
    """The monolith on a fresh SQLite file, its relay off: nothing leaves it but answers."""
    settings = {
        "MONOLITH_DATABASE_URL": f"sqlite+aiosqlite:///{log_dir / 'monolith.db'}",
        "MONOLITH_JWT_SECRET": JWT_SECRET,
        "MONOLITH_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "MONOLITH_OUTBOX_RELAY_ENABLED": "false",
    }
    with provider_process(
        "legacy-monolith", "legacy-monolith", settings, log_dir, prepare=True
    ) as monolith:
        yield monolith


def register_customer(monolith_url: str) -> None:
    """Ada, registered through the monolith's own API as a customer would; set up before each
    interaction, so from the second time on the account is already there (409)."""
    registered = httpx.post(
        f"{monolith_url}/api/users",
        json={"email": EMAIL, "password": PASSWORD, "name": "Ada"},
        timeout=60,
    )
    assert registered.status_code in (201, 409), registered.text


def first_record_ids(monolith_url: str, exports: dict[str, list[str]]) -> dict[str, str]:
    """The first record's id of each capability's entities, read from the monolith's export
    (``{"billing": ["customers"]}`` answers ``{"billing_customers_id": ...}``)."""
    ids = {}
    with httpx.Client(
        base_url=monolith_url,
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        timeout=60,
    ) as client:
        for capability, entities in exports.items():
            for entity in entities:
                page = client.get(f"/internal/{capability}/export/{entity}", params={"limit": 1})
                page.raise_for_status()
                records = page.json()["records"]
                assert records, f"the monolith exports no {capability} {entity}"
                ids[f"{capability}_{entity}_id"] = str(records[0]["id"])
    return ids
