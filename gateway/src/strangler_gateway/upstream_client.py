"""The gateway's HTTP/1.1 client to its upstreams: keep-alive connections, nothing else.

Why not aiohttp's client, which the gateway used before: against a static upstream, one
``aiohttp.ClientSession.request`` with its answer read cost ~115 µs of CPU, this client
~20 µs, measured in one process with ``time.process_time`` (a lean protocol over uvloop with
``httptools`` parsing the answer) — more than half of the gateway's CPU per proxied request.
The gateway needs little of a general client: its upstreams are a few fixed base URLs on plain
HTTP; it never follows redirects, keeps cookies or decompresses (bodies pass through byte for
byte); it forwards the path as the client sent it.

One ``Upstream`` per base URL holds at most ``limit`` connections (a request beyond them waits
for a free one up to ``wait_timeout``). A connection is reused once its answer was read to
the end and the upstream did not ask to close; idle connections are handed out newest first
and closed after ``keepalive_seconds``. Failures are raised as ``TimeoutError`` (no connection,
no free connection or no data in time), ``OSError`` (the connection could not be made) or
``UpstreamBroke`` (the connection broke or the answer was not HTTP): the breaker judges by them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import cast
from urllib.parse import urlsplit

import httptools

__all__ = ["Upstream", "UpstreamBroke", "UpstreamResponse"]

# What an answer's body may buffer in the gateway before it stops reading from the upstream.
BUFFERED_BYTES = 256 * 1024
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE", "CONNECT"})


class UpstreamBroke(Exception):
    """The connection broke off, or what came back was not an HTTP/1.1 answer."""


class UpstreamResponse:
    """An answer whose status and headers are in; its body streams as it arrives.

    ``raw_headers`` as the upstream sent them; ``headers`` by lower-case name (the last of
    repeated ones). Leave it with ``release()`` (or ``async with``): the connection goes back
    to the pool when the body was read to the end, and is closed otherwise.
    """

    def __init__(
        self, connection: _Connection, status: int, raw_headers: list[tuple[bytes, bytes]]
    ) -> None:
        self._connection = connection
        self.status = status
        self.raw_headers = raw_headers
        self._headers: dict[str, str] | None = None
        self.content_length: int | None = None
        for name, value in raw_headers:
            if len(name) == 14 and name.lower() == b"content-length":
                self.content_length = int(value) if value.isdigit() else None
        self.target = connection.target
        self._released = False

    @property
    def headers(self) -> dict[str, str]:
        """By lower-case name, decoded: made when first asked (most answers never are)."""
        if self._headers is None:
            self._headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.raw_headers
            }
        return self._headers

    async def read(self) -> bytes:
        """The whole body."""
        parts = []
        while chunk := await self._connection.next_chunk():
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, in the pieces it arrives in."""
        while True:
            chunk = await self._connection.next_chunk()
            if not chunk:
                return
            yield chunk

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._connection.finish()

    async def __aenter__(self) -> UpstreamResponse:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.release()


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request on it at a time."""

    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.target = ""
        self._parser: httptools.HttpResponseParser | None = None
        self._head: asyncio.Future[UpstreamResponse] | None = None
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._waiting: asyncio.Future[None] | None = None
        self._complete = False
        self._head_only = False
        self._reusable = False
        self._error: BaseException | None = None
        self._paused = False
        self._reading_paused = False
        self._drained: asyncio.Future[None] | None = None

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it

    def data_received(self, data: bytes) -> None:
        if self._parser is None:  # nothing asked: an idle connection must not talk
            self._close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamBroke("the upstream switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(UpstreamBroke(f"the upstream's answer is not HTTP/1.1: {exc}"))

    def eof_received(self) -> bool | None:
        if self._parser is None:  # an idle connection the upstream closed: never hand it out
            self.closed = True
            return None
        # An answer delimited by the end of the connection is complete now.
        if self._parser is not None and not self._complete and self._until_close():
            self.on_message_complete()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._upstream.forget(self)
        if self._parser is not None and not self._complete:
            self._fail(UpstreamBroke("the upstream closed the connection"))
        self._wake_writer()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake_writer()

    # -- httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        assert self._head is not None
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # informational: the real answer follows
            self._raw_headers = []
            return
        if not self._head.done():
            self._head.set_result(UpstreamResponse(self, status, self._raw_headers))
        if self._head_only:  # HEAD: headers only, whatever Content-Length says
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        if self._complete:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > BUFFERED_BYTES and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def on_message_complete(self) -> None:
        assert self._parser is not None
        if not self._complete and self._parser.get_status_code() < 200:
            return
        if self._complete:
            return
        self._complete = True
        # After a HEAD too: the next request gets a parser of its own.
        self._reusable = self._parser.should_keep_alive()
        self._wake_reader()

    # -- the gateway's side

    async def send(
        self,
        method: str,
        target: str,
        head: bytes,
        body: AsyncIterable[bytes] | bytes | None,
        chunked: bool,
        read_timeout: float,
    ) -> UpstreamResponse:
        assert self.transport is not None
        self.target = target
        self._parser = httptools.HttpResponseParser(self)
        self._head = self._loop.create_future()
        self._head_only = method == "HEAD"
        self.transport.write(head)
        if isinstance(body, bytes):
            self.transport.write(body)
        elif body is not None:
            async for chunk in body:
                if chunked:
                    self.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                else:
                    self.transport.write(chunk)
                await self._drain()
            if chunked:
                self.transport.write(b"0\r\n\r\n")
        # Not asyncio.timeout(): a timer of the loop's own per request cost more than the rest
        # of this method (~13 µs with uvloop, measured in one process); the upstream's one
        # sweep fails the answers it waits for past their deadline (see ``_HeadDeadlines``).
        answer = self._head
        deadlines = self._upstream.head_deadlines
        deadlines.add(self, self._loop.time() + read_timeout)
        try:
            return await answer
        finally:
            deadlines.discard(self)

    def head_timed_out(self) -> None:
        """No answer's head in the read timeout: the caller gets a ``TimeoutError``."""
        if self._head is not None and not self._head.done():
            self._head.set_exception(TimeoutError())

    async def next_chunk(self) -> bytes:
        """The next piece of the body; ``b""`` at its end."""
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._complete:
                return b""
            self._waiting = self._loop.create_future()
            try:
                async with asyncio.timeout(self._upstream.read_timeout):
                    await self._waiting
            finally:
                self._waiting = None
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._reading_paused and self._buffered <= BUFFERED_BYTES and self.transport:
            self._reading_paused = False
            self.transport.resume_reading()
        return chunk

    def finish(self) -> None:
        """The request is over: back to the pool if its answer was read whole."""
        reusable = self._complete and self._reusable and not self._chunks and not self.closed
        self._parser = None
        self._head = None
        self._raw_headers = []
        self._chunks.clear()
        self._buffered = 0
        self._complete = False
        self._error = None
        if self._reading_paused and self.transport is not None and not self.closed:
            self._reading_paused = False
            self.transport.resume_reading()
        if reusable:
            self._upstream.put_back(self)
        else:
            self._close()
            self._upstream.forget(self)

    def abandon(self) -> None:
        """The request failed before an answer: this connection is not used again."""
        self._parser = None
        self._close()
        self._upstream.forget(self)

    def _until_close(self) -> bool:
        head = self._head
        if head is None or not head.done() or head.exception() is not None:
            return False
        headers = head.result().headers
        return "content-length" not in headers and "transfer-encoding" not in headers

    def _fail(self, error: BaseException) -> None:
        self._error = error
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
        self._wake_reader()
        self._close()

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self.closed = True

    def _wake_reader(self) -> None:
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(None)

    def _wake_writer(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def _drain(self) -> None:
        if self.closed:
            raise UpstreamBroke("the upstream closed the connection")
        if not self._paused:
            return
        self._drained = self._loop.create_future()
        try:
            async with asyncio.timeout(self._upstream.read_timeout):
                await self._drained
        finally:
            self._drained = None
        if self.closed:
            raise UpstreamBroke("the upstream closed the connection")


class _HeadDeadlines:
    """The connections waiting for an answer's head, by deadline, checked by one timer.

    The timer runs only while some connection waits, every ``tick`` seconds (a twentieth of
    the read timeout, between 10 and 250 ms): a head that does not come in time fails that
    much late at most, and a request costs a dictionary entry instead of a timer of its own.
    """

    def __init__(self, read_timeout: float) -> None:
        self._tick = min(max(read_timeout / 20, 0.01), 0.25)
        self._waiting: dict[_Connection, float] = {}
        self._timer: asyncio.TimerHandle | None = None

    def add(self, connection: _Connection, deadline: float) -> None:
        self._waiting[connection] = deadline
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._tick, self._check)

    def discard(self, connection: _Connection) -> None:
        self._waiting.pop(connection, None)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        late = [connection for connection, deadline in self._waiting.items() if deadline <= now]
        for connection in late:
            del self._waiting[connection]
            connection.head_timed_out()
        self._timer = loop.call_later(self._tick, self._check) if self._waiting else None


class Upstream:
    """The connections to one upstream base URL (``http://host:port``)."""

    def __init__(
        self,
        base_url: str,
        *,
        limit: int,
        connect_timeout: float,
        read_timeout: float,
        wait_timeout: float,
        keepalive_seconds: float,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"an upstream is a plain http:// base URL, not {base_url!r}")
        self.base_url = base_url
        self._host = parts.hostname
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._host_header = parts.netloc.encode("latin-1")
        self._limit = limit
        self._connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.head_deadlines = _HeadDeadlines(read_timeout)
        self._wait_timeout = wait_timeout
        self._keepalive = keepalive_seconds
        self._idle: collections.deque[_Connection] = collections.deque()
        self._open: set[_Connection] = set()
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._sweep: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def request(
        self,
        method: str,
        target: str,
        headers: list[tuple[bytes, bytes]],
        body: AsyncIterable[bytes] | bytes | None = None,
    ) -> UpstreamResponse:
        """Send the request (``target``: path and query as the client sent them); the answer's
        headers are in when this returns, its body still to be read."""
        chunked = False
        framing: list[bytes] = []
        if body is not None:
            if isinstance(body, bytes):
                if not any(k.lower() == b"content-length" for k, _ in headers):
                    framing.append(b"content-length: %d\r\n" % len(body))
            elif not any(k.lower() == b"content-length" for k, _ in headers):
                chunked = True
                framing.append(b"transfer-encoding: chunked\r\n")
        elif method not in _NO_BODY_METHODS and not any(
            k.lower() == b"content-length" for k, _ in headers
        ):
            framing.append(b"content-length: 0\r\n")
        head = b"".join(
            [
                b"%s %s HTTP/1.1\r\nhost: %s\r\n"
                % (method.encode("latin-1"), (self._prefix + target).encode("latin-1"),
                   self._host_header),
                *[b"%s: %s\r\n" % pair for pair in headers],
                *framing,
                b"\r\n",
            ]
        )  # fmt: skip
        connection = await self._acquire()
        try:
            return await connection.send(method, target, head, body, chunked, self.read_timeout)
        except BaseException:
            connection.abandon()
            raise

    async def close(self) -> None:
        self._closed = True
        self.head_deadlines.close()
        if self._sweep is not None:
            self._sweep.cancel()
        for connection in list(self._open):
            connection.abandon()
        self._idle.clear()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()

    # -- the pool

    async def _acquire(self) -> _Connection:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_timeout
        while True:
            if self._closed:
                raise UpstreamBroke("the gateway is stopping")
            while self._idle:
                connection = self._idle.pop()  # the newest: the oldest ones expire
                transport = connection.transport
                if not connection.closed and transport is not None and not transport.is_closing():
                    return connection
                connection.abandon()
            if len(self._open) < self._limit:
                return await self._connect()
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # pass the turn on
                raise

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        connection = _Connection(self)
        self._open.add(connection)
        try:
            async with asyncio.timeout(self._connect_timeout):
                await loop.create_connection(lambda: connection, self._host, self._port)
        except BaseException:
            self._open.discard(connection)
            self._wake_one()
            raise
        return connection

    def put_back(self, connection: _Connection) -> None:
        if self._closed:
            connection.abandon()
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(self._keepalive, self._expire)
        self._wake_one()

    def forget(self, connection: _Connection) -> None:
        if connection in self._open:
            self._open.discard(connection)
            with contextlib.suppress(ValueError):
                self._idle.remove(connection)
            self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _expire(self) -> None:
        """Close the connections idle for ``keepalive_seconds``; look again while any idle."""
        self._sweep = None
        oldest_allowed = time.monotonic() - self._keepalive
        while self._idle and self._idle[0].idle_since <= oldest_allowed:
            self._idle.popleft().abandon()
        if self._idle:
            delay = self._idle[0].idle_since + self._keepalive - time.monotonic()
            self._sweep = asyncio.get_running_loop().call_later(max(delay, 0.01), self._expire)
