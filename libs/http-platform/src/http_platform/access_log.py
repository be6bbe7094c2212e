"""The access log: a line per answered request, as uvicorn writes it, for less CPU.

uvicorn's own access log goes through ``logging`` for every request: a ``LogRecord`` (the
caller's frame looked up, the time, the thread and process names), a filter to hide the
health probes, a formatter that copies the record, and a write and a flush of standard
output — ~30 µs of a ~450 µs one-query read (py-spy, ``bench/reads.py``). :class:`AccessLog`
writes the same line::

    INFO:     127.0.0.1:52114 - "GET /api/billing/plans?limit=5 HTTP/1.1" 200 OK

formatted once, when the answer starts, and written with the other lines of the same step of
the event loop in one write at the end of that step. ``/health/*`` is not logged (the
runner polls it). The path is percent-quoted as uvicorn quotes it, so a line separator or a
terminal escape in a path cannot forge a line.
"""

from __future__ import annotations

import asyncio
import sys
from http import HTTPStatus
from typing import Any, Final, TextIO, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

__all__ = ["AccessLog"]

_STATUS: Final = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
_UNLOGGED_PREFIX: Final = "/health/"


class AccessLog:
    """Pure-ASGI: one line per answered request on ``stream`` (standard output by default),
    the lines of one event-loop step written together."""

    def __init__(self, app: ASGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self._stream = stream
        self._lines: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_UNLOGGED_PREFIX):
            await self.app(scope, receive, send)
            return

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._log(scope, message["status"])
            await send(message)

        await self.app(scope, receive, logged_send)

    def _log(self, scope: Scope, status: int) -> None:
        request = cast(Any, scope)
        if not self._lines:
            asyncio.get_running_loop().call_soon(self.flush)
        self._lines.append(
            f'INFO:     {get_client_addr(request)} - "{scope["method"]} '
            f'{get_path_with_query_string(request)} HTTP/{scope["http_version"]}" '
            f"{_STATUS.get(status) or status}\n"
        )

    def flush(self) -> None:
        """Write the lines not yet written."""
        lines, self._lines = self._lines, []
        if lines:
            stream = self._stream or sys.stdout
            stream.write("".join(lines))
            stream.flush()
