"""The HTTP/1.1 protocol every process serves with: uvicorn's, plus two things nginx does.

**A bound on the request head.** uvicorn's httptools parser buffers a head of any size before
the app sees it: one client sending a single endless header grew a gateway process by ~300 MB
for 200 MiB sent. This protocol counts a head's bytes as they arrive and, past the bound,
answers 431 with a problem document and closes the connection, without reading the rest. Only
the head is counted (up to its blank line): body bytes that arrive in the same read as the
head are the body limit's business, not this bound's.

**A lingering close.** When the server closes a connection while the client is still sending
(an early 413 or 408 answered before the body was read), closing at once with unread bytes
in the socket makes the kernel send a reset, and a client that writes its whole body before
reading (urllib, requests) sees "connection reset by peer" instead of the answer. So the
close is done as nginx's ``lingering_close``: the answer is flushed, the sending side shut
(FIN), and what still arrives is read and thrown away, without parsing, until the client
closes too — for at most ``LINGER_SECONDS`` and ``LINGER_BYTES``, then the socket is closed.
A refused head is not lingered over: a client sending an endless header is cut off.

**One write per answer.** uvicorn writes a response's head and its body with two calls, and
each is a ``send`` system call: on a small answer that is most of the server's own CPU per
request (measured by ``bench/gateway.py``). The writes an app makes in one step of the event
loop are joined and written once, at the end of that step (or at once past
``COALESCE_BYTES``, and always before the connection is shut or closed).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from http_platform.problem_catalogue import REQUEST_HEAD_TOO_LARGE
from http_platform.problem_writer import Problem, raw_problem_response

__all__ = [
    "COALESCE_BYTES",
    "DEFAULT_MAX_HEAD_BYTES",
    "LINGER_BYTES",
    "LINGER_SECONDS",
    "bounded_head_protocol",
]

DEFAULT_MAX_HEAD_BYTES = 64 * 1024
LINGER_SECONDS = 5.0
LINGER_BYTES = 64 * 1024 * 1024
COALESCE_BYTES = 64 * 1024

_END_OF_HEAD = b"\r\n\r\n"


class _BoundedHeadProtocol(HttpToolsProtocol):
    max_head_bytes: ClassVar[int] = DEFAULT_MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._reading_head = True
        self._tail = b""
        self._socket: asyncio.Transport | None = None
        self._writer: _LingeringTransport | None = None
        self._lingered: int | None = None
        self._linger_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._socket = transport
        self._writer = _LingeringTransport(transport, self)
        super().connection_made(cast(asyncio.Transport, self._writer))

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger_deadline is not None:
            self._linger_deadline.cancel()
        self._lingered = None
        if self._writer is not None:
            self._writer.discard()
        super().connection_lost(exc)

    def eof_received(self) -> None:
        if self._lingered is not None:
            self._close_now()

    def linger(self) -> None:
        """Close as nginx's lingering close does: FIN now, discard what comes, then close."""
        socket = self._socket
        if socket is None or self._lingered is not None or socket.is_closing():
            return
        self._flush()
        if not socket.can_write_eof():
            socket.close()
            return
        self._lingered = 0
        socket.write_eof()
        socket.resume_reading()
        self._linger_deadline = self.loop.call_later(LINGER_SECONDS, self._close_now)

    def _close_now(self) -> None:
        if self._socket is not None:
            self._flush()
            self._socket.close()

    def _flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def data_received(self, data: bytes) -> None:
        if self._lingered is not None:
            self._lingered += len(data)
            if self._lingered > LINGER_BYTES:
                self._close_now()
            return
        if self._reading_head:
            self._head_bytes += self._head_part(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse_head()
                return
        super().data_received(data)

    def _head_part(self, data: bytes) -> int:
        """How many bytes of ``data`` belong to the head: up to its blank line, if the head
        ends in ``data`` (what follows is body, bounded by the body limit, not this one)."""
        seen = self._tail + data
        end = seen.find(_END_OF_HEAD)
        if end < 0:
            self._tail = seen[-(len(_END_OF_HEAD) - 1) :]
            return len(data)
        self._tail = b""
        return end + len(_END_OF_HEAD) - (len(seen) - len(data))

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_bytes, self._reading_head, self._tail = 0, True, b""

    def _refuse_head(self) -> None:
        self._reading_head = False
        problem = Problem(
            REQUEST_HEAD_TOO_LARGE,
            f"A request line and its headers are limited to {self.max_head_bytes} bytes.",
        )
        self.logger.warning("refused a request head over %d bytes", self.max_head_bytes)
        self.transport.write(raw_problem_response(problem))
        self._close_now()


class _LingeringTransport:
    """The socket's transport as uvicorn sees it: ``close()`` lingers instead, and the writes
    of one event-loop step go out as one."""

    def __init__(self, transport: asyncio.Transport, protocol: _BoundedHeadProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._flush_soon: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(bytes(data))
        self._pending_bytes += len(data)
        if self._pending_bytes >= COALESCE_BYTES:
            self.flush()
        elif self._flush_soon is None:
            self._flush_soon = self._protocol.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write what is pending, in one call."""
        if self._flush_soon is not None:
            self._flush_soon.cancel()
            self._flush_soon = None
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def discard(self) -> None:
        """The connection is gone: nothing pending can be written any more."""
        if self._flush_soon is not None:
            self._flush_soon.cancel()
            self._flush_soon = None
        self._pending, self._pending_bytes = [], 0

    def get_write_buffer_size(self) -> int:
        return self._pending_bytes + self._transport.get_write_buffer_size()

    def close(self) -> None:
        self.flush()
        self._protocol.linger()

    def is_closing(self) -> bool:
        return self._protocol._lingered is not None or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        # Anything else uvicorn asks of the socket (write_eof, pause_reading, ...) sees the
        # pending writes made first.
        self.flush()
        return getattr(self._transport, name)


def bounded_head_protocol(max_head_bytes: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, refusing request heads over ``max_head_bytes``."""
    return type("BoundedHeadProtocol", (_BoundedHeadProtocol,), {"max_head_bytes": max_head_bytes})
