"""Clients that misbehave on the wire, against ``strangler-gateway serve`` as it runs for real.

Each request here is written byte for byte on a raw socket, because no well-behaved HTTP client
trickles a body, stalls, abandons an upload or sends a 100 KiB header. Every test ends by
checking that the gateway still serves an ordinary request.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.gateway_process import HOST, GatewayProcess

from .conftest import GatewayProcessFactory

ANSWER_DEADLINE_SECONDS = 30.0
PROBLEM = "application/problem+json"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RawConnection:
    """One TCP connection to the gateway, written to as the test pleases."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, gateway: GatewayProcess) -> RawConnection:
        return cls(*await asyncio.open_connection(HOST, gateway.port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self) -> Answer:
        """The gateway's whole answer: every request here asks for ``Connection: close``."""
        raw = await asyncio.wait_for(self.reader.read(), ANSWER_DEADLINE_SECONDS)
        head, _, body = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        return Answer(int(status_line.split()[1]), headers, body)

    def close(self) -> None:
        self.writer.close()


def _request_head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: gateway.test", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _assert_problem(answer: Answer, status: int, route: str | None) -> None:
    assert answer.status == status
    assert answer.headers["content-type"] == PROBLEM
    document = answer.json()
    assert document["status"] == status
    assert document.get("route") == route
    assert b"Traceback" not in answer.body


async def _assert_still_serving(gateway: GatewayProcess) -> None:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=ANSWER_DEADLINE_SECONDS) as client:
        response = await client.get("/api/billing/plans")
    assert gateway.is_running(), gateway.output()
    assert response.status_code == 200
    assert response.json()["side"] == "legacy"


async def _requests_answered(gateway: GatewayProcess, route: str) -> float:
    async with httpx.AsyncClient(
        base_url=gateway.admin_url, timeout=ANSWER_DEADLINE_SECONDS
    ) as operator:
        metrics = (await operator.get("/metrics")).text
    pattern = rf'^strangler_gateway_requests_total{{route="{route}",target="legacy"}} (\S+)$'
    found = re.search(pattern, metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture
async def gateway(flag_database: str, gateway_process: GatewayProcessFactory) -> GatewayProcess:
    """A gateway process with its default limits, every route on legacy."""
    return await gateway_process(flag_database)


@pytest.fixture
async def raw_connections() -> AsyncIterator[list[RawConnection]]:
    """Connections the test opens are listed here and closed when it ends."""
    opened: list[RawConnection] = []
    yield opened
    for connection in opened:
        connection.close()


async def test_a_client_trickling_its_body_byte_by_byte_does_not_hold_up_other_clients(
    gateway: GatewayProcess, raw_connections: list[RawConnection]
) -> None:
    body = b"twenty bytes of body"
    slow = await RawConnection.open(gateway)
    raw_connections.append(slow)
    await slow.send(
        _request_head("POST", "/api/billing/uploads", f"Content-Length: {len(body)}") + body[:1]
    )

    async with httpx.AsyncClient(base_url=gateway.url, timeout=ANSWER_DEADLINE_SECONDS) as client:
        others = await asyncio.gather(*(client.get(f"/api/billing/plans?n={n}") for n in range(8)))
    for byte in body[1:]:
        await slow.send(bytes([byte]))
        await asyncio.sleep(0.05)
    trickled = await slow.answer()

    assert [response.status_code for response in others] == [200] * 8
    assert {response.json()["side"] for response in others} == {"legacy"}
    assert trickled.status == 200
    assert trickled.json()["body_bytes"] == len(body)
    await _assert_still_serving(gateway)


async def test_a_client_that_stalls_its_body_gets_a_408_and_the_route_stays_open(
    flag_database: str,
    gateway_process: GatewayProcessFactory,
    raw_connections: list[RawConnection],
) -> None:
    gateway = await gateway_process(
        flag_database, client_body_timeout_seconds="1", breaker_threshold="2"
    )
    stalled = [await RawConnection.open(gateway) for _ in range(3)]
    raw_connections.extend(stalled)
    for connection in stalled:
        await connection.send(
            _request_head("POST", "/api/billing/uploads", "Content-Length: 100") + b"x"
        )

    async with httpx.AsyncClient(base_url=gateway.url, timeout=ANSWER_DEADLINE_SECONDS) as client:
        meanwhile = await client.get("/api/billing/plans")
    answers = [await connection.answer() for connection in stalled]

    assert meanwhile.status_code == 200
    for answer in answers:
        _assert_problem(answer, 408, "billing")
        assert answer.json()["type"].endswith("/request-timeout")
    await _assert_still_serving(gateway)


async def test_a_client_that_declares_a_body_and_sends_none_of_it_is_answered_408(
    flag_database: str,
    gateway_process: GatewayProcessFactory,
    raw_connections: list[RawConnection],
) -> None:
    gateway = await gateway_process(flag_database, client_body_timeout_seconds="0.5")
    silent = await RawConnection.open(gateway)
    raw_connections.append(silent)

    await silent.send(_request_head("POST", "/api/billing/uploads", "Content-Length: 100"))
    answer = await silent.answer()

    _assert_problem(answer, 408, "billing")
    assert answer.json()["type"].endswith("/request-timeout")
    await _assert_still_serving(gateway)


async def test_clients_that_abandon_their_uploads_do_not_open_the_circuit(
    flag_database: str, gateway_process: GatewayProcessFactory
) -> None:
    gateway = await gateway_process(flag_database, breaker_threshold="2")
    abandoned = 4
    for _ in range(abandoned):
        connection = await RawConnection.open(gateway)
        await connection.send(
            _request_head("POST", "/api/billing/uploads", "Content-Length: 100") + b"x"
        )
        connection.close()

    deadline = time.monotonic() + ANSWER_DEADLINE_SECONDS
    while await _requests_answered(gateway, "billing") < abandoned and time.monotonic() < deadline:
        await asyncio.sleep(0.05)

    assert await _requests_answered(gateway, "billing") >= abandoned, gateway.output()
    await _assert_still_serving(gateway)


async def test_headers_over_the_limit_get_a_431_problem_naming_the_route(
    gateway: GatewayProcess, raw_connections: list[RawConnection]
) -> None:
    one_large = await RawConnection.open(gateway)
    many = await RawConnection.open(gateway)
    raw_connections.extend([one_large, many])

    await one_large.send(_request_head("GET", "/api/billing/plans", "X-Large: " + "a" * 40_000))
    await many.send(
        _request_head("GET", "/api/billing/plans", *(f"X-H{n}: {'v' * 100}" for n in range(400)))
    )

    _assert_problem(await one_large.answer(), 431, "billing")
    _assert_problem(await many.answer(), 431, "billing")
    await _assert_still_serving(gateway)


async def test_a_100_kib_header_is_refused_with_a_431_before_it_reaches_the_proxy(
    gateway: GatewayProcess, raw_connections: list[RawConnection]
) -> None:
    connection = await RawConnection.open(gateway)
    raw_connections.append(connection)

    await connection.send(_request_head("GET", "/api/billing/plans", "X-Huge: " + "a" * 102_400))
    answer = await connection.answer()

    _assert_problem(answer, 431, None)
    assert answer.json()["type"].endswith("/request-head-too-large")
    await _assert_still_serving(gateway)


async def test_a_header_that_never_ends_is_cut_off_instead_of_buffered(
    gateway: GatewayProcess, raw_connections: list[RawConnection]
) -> None:
    connection = await RawConnection.open(gateway)
    raw_connections.append(connection)
    piece, most_pieces = b"a" * 65_536, 512

    sent = 0
    refused: ConnectionError | None = None
    try:
        await connection.send(b"GET /api/billing/plans HTTP/1.1\r\nHost: gateway.test\r\nX-: ")
        async with asyncio.timeout(ANSWER_DEADLINE_SECONDS):
            while sent < most_pieces:
                await connection.send(piece)
                sent += 1
    except ConnectionError as exc:
        refused = exc

    assert refused is not None, f"the gateway read {sent} x 64 KiB of one header and kept going"
    await _assert_still_serving(gateway)


async def test_invalid_percent_encoding_is_forwarded_verbatim_as_a_transparent_proxy_does(
    gateway: GatewayProcess, raw_connections: list[RawConnection]
) -> None:
    paths = ["/api/billing/%zz", "/api/billing/%", "/api/billing/a%zz%2Fb%"]
    answers = []
    for path in paths:
        connection = await RawConnection.open(gateway)
        raw_connections.append(connection)
        await connection.send(_request_head("GET", path))
        answers.append(await connection.answer())

    assert [answer.status for answer in answers] == [200, 200, 200]
    assert {answer.headers["x-strangler-route"] for answer in answers} == {"billing"}
    assert [answer.json()["raw_path"] for answer in answers] == paths
    await _assert_still_serving(gateway)


async def test_a_chunked_body_over_the_limit_gets_a_413_problem_naming_the_route(
    flag_database: str,
    gateway_process: GatewayProcessFactory,
    raw_connections: list[RawConnection],
) -> None:
    gateway = await gateway_process(flag_database, max_body_bytes="1024")
    connection = await RawConnection.open(gateway)
    raw_connections.append(connection)
    chunk = b"x" * 4096

    await connection.send(
        _request_head("POST", "/api/billing/uploads", "Transfer-Encoding: chunked")
        + b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)
    )
    answer = await connection.answer()

    _assert_problem(answer, 413, "billing")
    assert "1024 bytes" in answer.json()["detail"]
    await _assert_still_serving(gateway)
