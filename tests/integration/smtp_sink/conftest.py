"""A running SMTP sink for each test: its HTTP API on a free port and SMTP on another."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage

import httpx
import pytest
import uvicorn
from smtp_sink.app import create_app
from smtp_sink.settings import Settings
from smtp_sink.smtp_server import SmtpListener

MAX_MESSAGES = 5


@dataclass
class Sink:
    """A running sink: its HTTP API and a way to mail it."""

    http: httpx.AsyncClient
    smtp_port: int

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP("127.0.0.1", self.smtp_port, local_hostname="tests", timeout=5) as smtp:
            smtp.send_message(message)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    app = create_app(Settings(smtp_host="127.0.0.1", smtp_port=0, max_messages=MAX_MESSAGES))
    http_socket = socket.socket()
    http_socket.bind(("127.0.0.1", 0))
    http_port = http_socket.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[http_socket]))
    while not server.started:
        if serving.done():
            serving.result()
            pytest.fail("the sink stopped while starting")
        await asyncio.sleep(0.01)
    listener: SmtpListener = app.root.listener
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
            yield Sink(http, listener.address[1])
    finally:
        server.should_exit = True
        await serving
        http_socket.close()
