"""What a client sees of the HTTP connection itself, from the monolith and billing as real
processes (``<deployable> serve``): bodies that arrive with the head, early answers to a
client still sending, and a client that never sends the body it declared.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.integration.serving.conftest import Deployable

ANSWER_DEADLINE_SECONDS = 20.0
HEAD_LIMIT = 64 * 1024


def _head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: serving.test", *headers, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _exchange(deployable: Deployable, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send ``request`` in one write; read the whole answer (the server closes after it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", deployable.port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(ANSWER_DEADLINE_SECONDS):
            answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


def _padded_registration(size: int, email: str) -> bytes:
    """A valid registration, padded with JSON whitespace to exactly ``size`` bytes."""
    document = json.dumps({"email": email, "password": "correct horse battery", "name": "Pad"})
    return (document[:-1] + " " * (size - len(document)) + "}").encode()


async def test_a_body_sent_in_one_write_with_its_head_is_counted_as_body_not_as_head(
    deployable: Deployable,
) -> None:
    body = _padded_registration(65_500, deployable.unique_email())
    request = _head(
        "POST",
        deployable.body_path,
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *deployable.auth_headers,
    )
    assert len(request + body) > HEAD_LIMIT

    status, document = await _exchange(deployable, request + body)

    assert status == deployable.body_accepted_status, document
    assert document.get("type", "").rpartition("/")[2] != "request-head-too-large"


def _send_whole_body_then_read(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """What urllib does: the whole body is written before the answer is read."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_DEADLINE_SECONDS) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


async def test_a_client_that_sends_a_large_body_before_reading_gets_the_413_problem(
    deployable: Deployable,
) -> None:
    body = b'{"padding": "' + b"x" * (16 * 1024 * 1024) + b'"}'

    status, document = await asyncio.to_thread(
        _send_whole_body_then_read, deployable.url + deployable.body_path, body
    )

    assert status == 413
    assert document["type"].endswith("/payload-too-large")
    assert document["status"] == 413


@pytest.mark.parametrize("declared", [100, 50 * 1024 * 1024], ids=["under", "over the limit"])
async def test_a_client_that_declares_a_body_and_never_sends_it_is_answered_not_held(
    deployable: Deployable, declared: int
) -> None:
    request = _head(
        "POST",
        deployable.body_path,
        "Content-Type: application/json",
        f"Content-Length: {declared}",
    )

    status, document = await _exchange(deployable, request)

    if declared > deployable.max_body_bytes:
        assert (status, document["type"].rpartition("/")[2]) == (413, "payload-too-large")
    else:
        assert (status, document["type"].rpartition("/")[2]) == (408, "request-timeout")
