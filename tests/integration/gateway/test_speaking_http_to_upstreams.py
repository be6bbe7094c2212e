"""The gateway's own HTTP/1.1 client (upstream_client.py) against upstreams that answer in
every framing HTTP/1.1 allows: by length, chunked, to the end of the connection, after an
interim 100, and to a HEAD; one keep-alive connection carries request after request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
from starlette.types import Receive, Scope, Send

from .conftest import GatewayFactory, serving

RawAnswer = Callable[[bytes], bytes]


@contextlib.asynccontextmanager
async def raw_upstream(answer: RawAnswer) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server writing ``answer(request head)`` byte for byte, then closing the connection;
    yields its URL and the heads it received."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        heads.append(head)
        writer.write(answer(head))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", heads


async def test_an_answer_delimited_by_the_end_of_the_connection_arrives_whole(
    gateway: GatewayFactory,
) -> None:
    body = b"x" * 100_000

    def answer(_: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n" + body

    async with (
        raw_upstream(answer) as (url, heads),
        gateway(legacy_url=url) as client,
    ):
        response = await client.get("/api/billing/plans?page=2")

    assert response.status_code == 200
    assert response.content == body
    assert heads[0].startswith(b"GET /api/billing/plans?page=2 HTTP/1.1\r\n")
    assert f"host: {url.removeprefix('http://')}".encode() in heads[0].lower()


async def test_an_interim_100_is_skipped_for_the_answer_after_it(gateway: GatewayFactory) -> None:
    def answer(_: bytes) -> bytes:
        return (
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
        )

    async with raw_upstream(answer) as (url, _), gateway(legacy_url=url) as client:
        response = await client.get("/api/billing/plans")

    assert (response.status_code, response.content) == (201, b"ok")


class ConnectionCounting:
    """Answers HEAD with a length and no body, GET chunked, POST with what it received;
    remembers the client ports it was called from."""

    def __init__(self) -> None:
        self.ports: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.ports.append(scope["client"][1])
        received = b""
        more = True
        while more:
            message = await receive()
            received += message.get("body", b"")
            more = message.get("more_body", False)
        if scope["method"] == "HEAD":
            headers = [(b"content-length", b"5")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["method"] == "POST":
            await send({"type": "http.response.body", "body": received})
            return
        for part in (b"one,", b"two,", b"three"):  # no length: uvicorn sends it chunked
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def counting() -> ConnectionCounting:
    return ConnectionCounting()


async def test_one_connection_carries_heads_chunked_answers_and_uploads_in_turn(
    gateway: GatewayFactory, counting: ConnectionCounting
) -> None:
    async def chunked_body() -> AsyncIterator[bytes]:
        for part in (b"a" * 70_000, b"b" * 70_000):
            yield part

    async with serving(counting) as (url,), gateway(legacy_url=url) as client:
        head = await client.head("/api/billing/plans")
        got = await client.get("/api/billing/plans")
        posted = await client.post("/api/billing/echo", content=chunked_body())
        again = await client.get("/api/billing/plans")

    assert (head.status_code, head.headers["content-length"], head.content) == (200, "5", b"")
    assert got.content == again.content == b"one,two,three"
    assert posted.content == b"a" * 70_000 + b"b" * 70_000
    assert len(counting.ports) == 4
    assert len(set(counting.ports)) == 1, "each request should reuse the kept-alive connection"
