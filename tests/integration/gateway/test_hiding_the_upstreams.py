"""No answer through the gateway names an upstream's address."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Request, Response
from pydantic import SecretStr
from strangler_gateway import GatewaySettings, InMemoryFlagStore, create_app

from .conftest import ADMIN_TOKEN, GatewayClient, serving

PROVIDER_PAGE = "https://payments.example.com/3ds/challenge?id=7"


def monolith_like_upstream() -> FastAPI:
    """Redirects as FastAPI does (``redirect_slashes``: an absolute URL built from the
    ``Host`` it was sent) and names itself in other URL headers."""
    app = FastAPI()

    @app.get("/api/billing/invoices")
    async def invoices() -> list[str]:
        return []

    @app.get("/api/billing/links")
    async def links(request: Request) -> Response:
        own = str(request.base_url).rstrip("/")
        return Response(
            headers={
                "Content-Location": f"{own}/api/billing/links?page=1",
                "Link": f'<{own}/api/billing/links?page=2>; rel="next", <{PROVIDER_PAGE}>; rel="x"',
                "Refresh": f"5; url={own}/api/billing/invoices",
            }
        )

    @app.get("/api/billing/provider")
    async def provider() -> Response:
        return Response(status_code=303, headers={"Location": PROVIDER_PAGE})

    return app


@pytest.fixture
async def client() -> AsyncIterator[GatewayClient]:
    async with serving(monolith_like_upstream()) as (legacy,):
        gateway = create_app(
            GatewaySettings(legacy_url=legacy, admin_token=SecretStr(ADMIN_TOKEN)),
            flag_source=InMemoryFlagStore(),
        )
        async with (
            serving(gateway.public) as (url,),
            GatewayClient(base_url=url, timeout=10) as client,
        ):
            yield client


async def test_a_trailing_slash_redirect_through_the_gateway_names_the_gateway(
    client: GatewayClient,
) -> None:
    response = await client.get("/api/billing/invoices/")

    assert response.status_code == 307
    assert response.headers["location"] == "/api/billing/invoices"
    followed = await client.get(response.headers["location"])
    assert followed.status_code == 200
    assert followed.headers["x-strangler-route"] == "billing"


async def test_link_content_location_and_refresh_name_no_upstream(client: GatewayClient) -> None:
    response = await client.get("/api/billing/links")

    assert response.headers["content-location"] == "/api/billing/links?page=1"
    assert response.headers["link"] == (
        f'</api/billing/links?page=2>; rel="next", <{PROVIDER_PAGE}>; rel="x"'
    )
    assert response.headers["refresh"] == "5; url=/api/billing/invoices"


async def test_a_redirect_to_another_site_passes_untouched(client: GatewayClient) -> None:
    response = await client.get("/api/billing/provider")

    assert response.status_code == 303
    assert response.headers["location"] == PROVIDER_PAGE
