"""What passes through the gateway: method, path, headers, bodies; what does not: hop-by-hop."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from .conftest import GatewayFactory


def _seen_headers(response_json: dict[str, object]) -> dict[str, str]:
    pairs = response_json["headers"]
    assert isinstance(pairs, list)
    return {str(k): str(v) for k, v in pairs}


async def test_forwarded_headers_and_request_id_are_added(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        response = await client.get("/api/users/1", headers={"X-Forwarded-For": "203.0.113.9"})

    seen = _seen_headers(response.json())
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"] == client.base_url.netloc.decode()
    assert len(seen["x-request-id"]) == 32
    assert response.headers["x-request-id"] == seen["x-request-id"]


async def test_a_given_request_id_is_kept(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        response = await client.delete("/api/users/1", headers={"X-Request-ID": "req-123"})

    assert response.json()["method"] == "DELETE"
    assert _seen_headers(response.json())["x-request-id"] == "req-123"
    assert response.headers["x-request-id"] == "req-123"


async def test_hop_by_hop_headers_are_dropped_both_ways(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        response = await client.get(
            "/api/users/1",
            headers={
                "Connection": "keep-alive, x-client-hop",
                "X-Client-Hop": "secret",
                "Proxy-Authorization": "Basic Zm9vOmJhcg==",
                "X-End-To-End": "kept",
            },
        )

    seen = _seen_headers(response.json())
    assert "x-client-hop" not in seen
    assert "proxy-authorization" not in seen
    assert seen["x-end-to-end"] == "kept"
    assert "x-upstream-hop" not in response.headers
    assert "keep-alive" not in response.headers
    assert "upstream=1; Path=/" in response.headers.get_list("set-cookie")


async def test_a_large_request_body_streams_through_intact(gateway: GatewayFactory) -> None:
    block = bytes(range(256)) * 4096
    chunks = 6  # 6 MiB, sent chunked

    async def body() -> AsyncIterator[bytes]:
        for _ in range(chunks):
            yield block

    async with gateway() as client:
        response = await client.post("/api/notifications/upload", content=body())

    assert response.status_code == 200
    assert response.json()["method"] == "POST"
    assert response.json()["body_bytes"] == len(block) * chunks
    assert response.json()["body_sha256"] == hashlib.sha256(block * chunks).hexdigest()


async def test_a_large_response_streams_back_intact(gateway: GatewayFactory) -> None:
    size = 5 * 1024 * 1024 + 7

    async with (
        gateway() as client,
        client.stream("GET", "/api/billing/big", params={"size": str(size)}) as response,
    ):
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)

    assert response.status_code == 200
    assert response.headers["x-side"] == "legacy"
    assert received == size
