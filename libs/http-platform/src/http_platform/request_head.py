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
``COALESCE_BYTES``, at once when the answer is complete, and always before the connection is
shut or closed).

**One timer for idle connections.** uvicorn arms a timer of the event loop's own after every
answer, to close the connection if it stays idle, and cancels it when the next request comes:
with uvloop that pair cost ~3.6 µs per request, more than parsing the request. Here one timer
per loop and keep-alive timeout looks at the idle connections every fifth of the timeout, so
an idle connection is closed between 1 and 1.2 times ``timeout_keep_alive`` after its answer.
"""

from __future__ import annotations

import asyncio
import collections
import weakref
from collections.abc import Callable
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

    def on_response_complete(self) -> None:
        # The answer is whole: out now, not a loop step later (one fewer step per request).
        self._flush()
        # uvicorn's own, but for the idle timer (see the module's docstring).
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self.timeout_keep_alive_task = _idle_sweep(self.loop, self.timeout_keep_alive).watch(
                self.timeout_keep_alive_handler
            )  # type: ignore[assignment]

    def _refuse_head(self) -> None:
        self._reading_head = False
        problem = Problem(
            REQUEST_HEAD_TOO_LARGE,
            f"A request line and its headers are limited to {self.max_head_bytes} bytes.",
        )
        self.logger.warning("refused a request head over %d bytes", self.max_head_bytes)
        self.transport.write(raw_problem_response(problem))
        self._close_now()


class _IdleMark:
    """One idle connection's place in its sweep; ``cancel()`` when a request comes."""

    __slots__ = ("callback", "cancelled", "deadline")

    def __init__(self, deadline: float, callback: Callable[[], None]) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class _IdleSweep:
    """The idle connections of one event loop with one keep-alive timeout, oldest first."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout
        self._tick = timeout / 5
        self._marks: collections.deque[_IdleMark] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, callback: Callable[[], None]) -> _IdleMark:
        mark = _IdleMark(self._loop.time() + self._timeout, callback)
        self._marks.append(mark)
        if self._timer is None:
            self._timer = self._loop.call_later(self._tick, self._check)
        return mark

    def _check(self) -> None:
        now = self._loop.time()
        marks = self._marks
        # One timeout for all: the marks are in deadline order.
        while marks and (marks[0].cancelled or marks[0].deadline <= now):
            mark = marks.popleft()
            if not mark.cancelled:
                mark.callback()
        self._timer = self._loop.call_later(self._tick, self._check) if marks else None


_IDLE_SWEEPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, _IdleSweep]] = (
    weakref.WeakKeyDictionary()
)


def _idle_sweep(loop: asyncio.AbstractEventLoop, timeout: float) -> _IdleSweep:
    sweeps = _IDLE_SWEEPS.get(loop)
    if sweeps is None:
        sweeps = _IDLE_SWEEPS[loop] = {}
    sweep = sweeps.get(timeout)
    if sweep is None:
        sweep = sweeps[timeout] = _IdleSweep(loop, timeout)
    return sweep


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
