"""Input that would reach the wrong place — a mail header, the provider's HTTP header, a date —
is refused where it enters, with a problem that names it, and changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from legacy_monolith.notifications.mailer import RecordingMailer

from tests.support.monolith_api import (
    Subscriber,
    assert_problem,
    pay,
    refund,
    register,
    unique_email,
)
from tests.support.monolith_database import Snapshot
from tests.unit.monolith.conftest import JWT_SECRET

LINE_BREAKS = ["\n", "\r", "\r\n", "\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1b", "\u200e"]


@pytest.mark.parametrize("line_break", LINE_BREAKS)
async def test_a_name_with_a_line_break_or_control_character_is_refused_naming_the_field(
    client: httpx.AsyncClient, mailer: RecordingMailer, snapshot: Snapshot, line_break: str
) -> None:
    before = await snapshot()

    response = await register(client, unique_email(), name=f"Mallory{line_break}Bcc: x@y.test")

    problem = assert_problem(response, 422, "validation-failed")
    assert [error["pointer"] for error in problem["errors"]] == ["/name"]
    assert mailer.sent == []
    assert await snapshot() == before


async def test_a_refund_reason_with_a_line_break_is_refused(
    client: httpx.AsyncClient, subscriber: Subscriber
) -> None:
    customer = subscriber.customer
    response = await client.post(
        f"/api/billing/invoices/{subscriber.invoice_id}/refund",
        json={"reason": "duplicate\r\nX-Injected: yes"},
        headers=customer.auth,
    )

    problem = assert_problem(response, 422, "validation-failed")
    assert [error["pointer"] for error in problem["errors"]] == ["/reason"]


def _signed(claims: dict[str, Any]) -> str:
    """A token with any claims at all, signed with the monolith's secret."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(claims).encode())
    signature = hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256)
    return f"{head}.{body}.{part(signature.digest())}"


@pytest.mark.parametrize(
    "issued_at", [-(10**20), -1, "123", "1700000000", [1], {"at": 1}, None, 10**20, 1e300]
)
async def test_a_signed_token_with_an_absurd_issue_time_is_unauthenticated(
    client: httpx.AsyncClient, subscriber: Subscriber, issued_at: object
) -> None:
    token = _signed(
        {
            "sub": subscriber.customer.id,
            "iss": "legacy-monolith",
            "iat": issued_at,
            "exp": int(time.time()) + 600,
        }
    )

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 401, "unauthenticated")


@pytest.mark.parametrize("subject", [12345, ["x"], {"id": "x"}, "", "u" * 65])
async def test_a_signed_token_whose_subject_is_not_a_user_id_is_unauthenticated(
    client: httpx.AsyncClient, subject: object
) -> None:
    now = int(time.time())
    token = _signed({"sub": subject, "iss": "legacy-monolith", "iat": now, "exp": now + 600})

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 401, "unauthenticated")


async def test_a_refund_with_a_250_character_key_says_the_key_is_too_long(
    client: httpx.AsyncClient, subscriber: Subscriber, snapshot: Snapshot
) -> None:
    customer = subscriber.customer
    assert (await pay(client, customer, subscriber.invoice_id)).status_code == 201
    before = await snapshot()

    response = await refund(client, customer, subscriber.invoice_id, key="k" * 250)

    problem = assert_problem(response, 400, "idempotency-key-too-long")
    assert "at most 200 characters" in problem["detail"]
    assert await snapshot() == before


@pytest.mark.parametrize("key", ["k" * 201, "clé-1", "key with spaces", "tab\tkey", ""])
async def test_a_payment_with_an_unusable_key_is_a_400_and_charges_nothing(
    client: httpx.AsyncClient, subscriber: Subscriber, snapshot: Snapshot, key: str
) -> None:
    before = await snapshot()

    response = await client.post(
        f"/api/billing/invoices/{subscriber.invoice_id}/pay",
        json={"card_number": "4242424242424242"},
        headers={**subscriber.customer.auth, "Idempotency-Key": key.encode()},
    )

    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith(("idempotency-key-too-long", "idempotency-key-invalid"))
    assert await snapshot() == before
