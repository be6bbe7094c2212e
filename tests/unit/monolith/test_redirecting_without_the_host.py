"""The monolith's own redirects never repeat the ``Host`` a client sent."""

from __future__ import annotations

import httpx


async def test_a_trailing_slash_redirect_names_no_host_whatever_the_client_claims(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/billing/invoices/?page=2", headers={"Host": "evil.example"})

    assert response.status_code == 307
    assert response.headers["location"] == "/api/billing/invoices?page=2"
