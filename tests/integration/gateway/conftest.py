"""Real HTTP around the gateway: two tiny upstreams and the gateway, each on a free port.

Every server is a ``uvicorn.Server`` on a socket bound to 127.0.0.1:0, run as a task of the
test's own event loop, and stopped when the test ends. The gateway's two faces get a port
each: ``client`` talks to the public entry, ``client.operator`` to the operator listener
(admin API, metrics). ``gateway_process`` starts the gateway as a real
``strangler-gateway serve`` process instead, as it runs in production.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send
from strangler_gateway import GatewaySettings, InMemoryFlagStore, create_app
from strangler_gateway.migrate import upgrade_to_head

from tests.support.gateway_process import GatewayProcess, launch_gateway, wait_until_ready

SLOW_SECONDS = 3.0
ADMIN_TOKEN = "admin-token-for-tests"


@asynccontextmanager
async def serving(*apps: ASGIApp, port: int = 0) -> AsyncIterator[list[str]]:
    """Serve each app on a free port until the block ends; yields their base URLs.

    ``port`` binds a given port instead (one app): an upstream coming back where it was.
    The servers stop together, so a test waits for one shutdown rather than one per server.
    """
    sockets, servers = [], []
    for app in apps:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sockets.append(sock)
        # proxy_headers=False: the gateway is the edge, its client is the socket's peer.
        config = uvicorn.Config(
            app, log_level="warning", proxy_headers=False, timeout_graceful_shutdown=1
        )
        servers.append(uvicorn.Server(config))
    tasks = [
        asyncio.create_task(server.serve(sockets=[sock]))
        for server, sock in zip(servers, sockets, strict=True)
    ]
    try:
        for _ in range(200):
            if all(server.started for server in servers) or any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.025)
        assert all(server.started for server in servers), "a server did not start"
        yield [f"http://127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
        for sock in sockets:
            sock.close()


def dead_url() -> str:
    """A URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def echo_upstream(side: str) -> ASGIApp:
    """An upstream that answers with its side and the request it saw.

    ``.../unstable`` answers 503 on the new side; ``.../slow`` answers after ``SLOW_SECONDS``;
    ``.../big?size=N`` streams N bytes back; ``.../problem-500`` and ``.../problem-504`` are
    problem documents the application chose to answer, ``.../bare-502`` a 502 without one.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        digest = hashlib.sha256()
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            digest.update(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        path: str = scope["path"]
        if path.endswith("/slow"):
            await asyncio.sleep(SLOW_SECONDS)
        if path.endswith("/big"):
            query = dict(
                pair.split("=", 1) for pair in scope["query_string"].decode().split("&") if pair
            )
            total = int(query["size"])
            headers = [(b"content-type", b"application/octet-stream"), (b"x-side", side.encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            block = b"x" * 65536
            sent = 0
            while sent < total:
                part = block[: min(len(block), total - sent)]
                sent += len(part)
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        for status in (500, 504):
            if path.endswith(f"/problem-{status}"):
                await _answer_problem(send, status)
                return
        if path.endswith("/bare-502"):
            await send({"type": "http.response.start", "status": 502, "headers": []})
            await send({"type": "http.response.body", "body": b"bad gateway"})
            return
        status = 503 if side == "new" and path.endswith("/unstable") else 200
        seen: dict[str, Any] = {
            "side": side,
            "method": scope["method"],
            "path": path,
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
            "body_bytes": size,
            "body_sha256": digest.hexdigest(),
        }
        payload = json.dumps(seen).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"x-upstream-hop"),
                    (b"x-upstream-hop", b"secret"),
                    (b"keep-alive", b"timeout=5"),
                    (b"set-cookie", b"upstream=1; Path=/"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return app


async def _answer_problem(send: Send, status: int) -> None:
    document = {"type": "https://example.com/problems/x", "title": "X", "status": status}
    payload = json.dumps(document).encode()
    headers = [(b"content-type", b"application/problem+json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


@pytest.fixture
async def upstreams() -> AsyncIterator[tuple[str, str]]:
    """The legacy and the new upstream's URLs."""
    async with serving(echo_upstream("legacy"), echo_upstream("new")) as (legacy, new):
        yield legacy, new


class GatewayClient(httpx.AsyncClient):
    """A client of the public entry; ``operator`` is a client of the operator listener."""

    operator: httpx.AsyncClient


GatewayFactory = Callable[..., AbstractAsyncContextManager[GatewayClient]]


@pytest.fixture
def flags() -> InMemoryFlagStore:
    return InMemoryFlagStore()


@pytest.fixture
def gateway(upstreams: tuple[str, str], flags: InMemoryFlagStore) -> GatewayFactory:
    """``async with gateway(**setting_overrides) as client``: a gateway and a client into it."""
    legacy_url, new_url = upstreams

    @asynccontextmanager
    async def start(use_database: bool = False, **overrides: Any) -> AsyncIterator[GatewayClient]:
        values: dict[str, Any] = {
            "legacy_url": legacy_url,
            "auth_url": new_url,
            "billing_url": new_url,
            "notifications_url": new_url,
            "connect_timeout_seconds": 1.0,
            "read_timeout_seconds": 0.5,
            "max_body_bytes": 8 * 1024 * 1024,
            "admin_token": SecretStr(ADMIN_TOKEN),
        }
        values.update(overrides)
        source = None if use_database else flags
        gateway = create_app(GatewaySettings(**values), flag_source=source)
        async with (
            serving(gateway.public, gateway.operator) as (url, operator_url),
            GatewayClient(base_url=url, timeout=10) as client,
            httpx.AsyncClient(base_url=operator_url, timeout=10) as operator,
        ):
            client.operator = operator
            yield client

    return start


@pytest.fixture
def flag_database(tmp_path: Path) -> str:
    """The URL of a SQLite flag database, migrated: the embedded profile's default."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    upgrade_to_head(url)
    return url


GatewayProcessFactory = Callable[..., Awaitable[GatewayProcess]]


@pytest.fixture
async def gateway_process(
    upstreams: tuple[str, str], tmp_path: Path
) -> AsyncIterator[GatewayProcessFactory]:
    """``await gateway_process(database_url, **settings)``: ``strangler-gateway serve`` in front
    of the two upstreams, once it answers. Every gateway started is stopped when the test ends,
    before the upstreams."""
    legacy_url, new_url = upstreams
    started: list[GatewayProcess] = []

    async def start(database_url: str, **settings: str) -> GatewayProcess:
        values = {
            "database_url": database_url,
            "legacy_url": legacy_url,
            "auth_url": new_url,
            "billing_url": new_url,
            "notifications_url": new_url,
            "admin_token": ADMIN_TOKEN,
            **settings,
        }
        process = launch_gateway(values, tmp_path / f"gateway-{len(started)}.log")
        started.append(process)
        await wait_until_ready(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            await asyncio.to_thread(process.stop)
