"""A bound on the size of a request head (request line and headers), as nginx has one.

uvicorn's httptools parser buffers a head of any size before the app sees it: one client
sending a single endless header grew a gateway process by ~300 MB for 200 MiB sent. This
protocol counts a head's bytes as they arrive and, past the bound, answers 431 with a problem
document and closes the connection, without reading the rest. Only the head is counted: body
bytes that arrive in the same read as the head are the body limit's business.
"""

from __future__ import annotations

from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from http_platform.problem_catalogue import REQUEST_HEAD_TOO_LARGE
from http_platform.problem_writer import Problem, raw_problem_response

__all__ = ["DEFAULT_MAX_HEAD_BYTES", "bounded_head_protocol"]

DEFAULT_MAX_HEAD_BYTES = 64 * 1024


_END_OF_HEAD = b"\r\n\r\n"


class _BoundedHeadProtocol(HttpToolsProtocol):
    max_head_bytes: ClassVar[int] = DEFAULT_MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._reading_head = True
        self._tail = b""

    def data_received(self, data: bytes) -> None:
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
        self.transport.close()


def bounded_head_protocol(max_head_bytes: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, refusing request heads over ``max_head_bytes``."""
    return type("BoundedHeadProtocol", (_BoundedHeadProtocol,), {"max_head_bytes": max_head_bytes})
