"""A client's keep-alive connection to ``strangler-gateway serve`` as it runs for real: request
after request and pipelined requests are answered in order on it, an answer goes out whole,
and a connection left idle is closed by the gateway instead of being held open for ever.

Written on a raw socket: an HTTP client library hides which connection carried what.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.gateway_process import HOST, GatewayProcess

from .conftest import GatewayProcessFactory

ANSWER_DEADLINE_SECONDS = 30.0
# uvicorn's keep-alive timeout is 5 s; the gateway closes an idle connection between 5 and
# 6 s after its last answer. The deadline only bounds the test: no timing is asserted.
IDLE_CLOSE_DEADLINE_SECONDS = 60.0


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: gateway.test\r\n\r\n".encode("latin-1")


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One answer off a keep-alive connection, delimited by its ``Content-Length``."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ANSWER_DEADLINE_SECONDS)
    status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await asyncio.wait_for(
        reader.readexactly(int(headers["content-length"])), ANSWER_DEADLINE_SECONDS
    )
    return int(status_line.split()[1]), headers, body


@pytest.fixture
async def gateway(flag_database: str, gateway_process: GatewayProcessFactory) -> GatewayProcess:
    return await gateway_process(flag_database)


async def test_one_connection_carries_requests_one_after_another_and_pipelined_in_order(
    gateway: GatewayProcess,
) -> None:
    reader, writer = await asyncio.open_connection(HOST, gateway.port)
    try:
        writer.write(_get("/api/billing/first"))
        status, headers, body = await _answer(reader)
        assert status == 200
        assert json.loads(body)["path"] == "/api/billing/first"
        assert headers.get("connection", "keep-alive") != "close"

        # Two requests in one write: both answered, in the order they were sent.
        writer.write(_get("/api/billing/second") + _get("/api/users/third"))
        answers = [await _answer(reader), await _answer(reader)]
        assert [json.loads(body)["path"] for _, _, body in answers] == [
            "/api/billing/second",
            "/api/users/third",
        ]
        assert [headers["x-strangler-route"] for _, headers, _ in answers] == ["billing", "users"]
        first_id, second_id = (headers["x-request-id"] for _, headers, _ in answers)
        assert first_id != second_id
    finally:
        writer.close()


async def test_an_idle_keep_alive_connection_is_closed_by_the_gateway(
    gateway: GatewayProcess,
) -> None:
    reader, writer = await asyncio.open_connection(HOST, gateway.port)
    try:
        writer.write(_get("/api/billing/plans"))
        status, _, _ = await _answer(reader)
        assert status == 200
        # Nothing more is sent: the gateway ends the connection (EOF), it does not hold it.
        rest = await asyncio.wait_for(reader.read(), IDLE_CLOSE_DEADLINE_SECONDS)
        assert rest == b""
    finally:
        writer.close()
    assert gateway.is_running(), gateway.output()


async def test_a_connection_in_use_is_not_closed_as_idle(gateway: GatewayProcess) -> None:
    """Requests a second apart, for longer than the keep-alive timeout: each one renews it."""
    reader, writer = await asyncio.open_connection(HOST, gateway.port)
    try:
        for number in range(8):
            writer.write(_get(f"/api/billing/request-{number}"))
            status, _, body = await _answer(reader)
            assert status == 200
            assert json.loads(body)["path"] == f"/api/billing/request-{number}"
            await asyncio.sleep(1.0)
    finally:
        writer.close()
