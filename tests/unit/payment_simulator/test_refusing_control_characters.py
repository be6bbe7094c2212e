"""The provider's text fields are one printable line: a charge's description is printed on
statements, a charge id is echoed in answers; neither takes a line break."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

VALID = {"amount": 1999, "currency": "eur", "card_number": "4242424242424242"}


@pytest.mark.parametrize("line_break", ["\n", "\r", "\u2028", "\u0085", "\x1b"])
async def test_a_description_with_a_line_break_is_refused_naming_it(
    client: httpx.AsyncClient,
    charges_total: Callable[[], Awaitable[int]],
    key: str,
    line_break: str,
) -> None:
    body = {**VALID, "description": f"Invoice 1{line_break}Refund: all"}

    response = await client.post("/v1/charges", json=body, headers={"Idempotency-Key": key})

    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/description"]
    assert await charges_total() == 0


async def test_a_refund_of_a_charge_id_with_a_line_break_is_refused(
    client: httpx.AsyncClient, key: str
) -> None:
    response = await client.post(
        "/v1/refunds", json={"charge_id": "ch_1\nch_2"}, headers={"Idempotency-Key": key}
    )

    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/charge_id"]
