"""A bound on the size of a request head (request line and headers), as nginx has one.

uvicorn's httptools parser buffers a head of any size before the app sees it: one client
sending a single endless header grew a gateway process by ~300 MB for 200 MiB sent. This
protocol counts a head's bytes as they arrive and, past the bound, answers 431 with a problem
document and closes the connection, without reading the rest.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from http_platform.problems import PROBLEM_CONTENT_TYPE, problem_type

__all__ = ["DEFAULT_MAX_HEAD_BYTES", "bounded_head_protocol"]

DEFAULT_MAX_HEAD_BYTES = 64 * 1024


class _BoundedHeadProtocol(HttpToolsProtocol):
    max_head_bytes: ClassVar[int] = DEFAULT_MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._reading_head = True

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse_head()
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_bytes, self._reading_head = 0, True

    def _refuse_head(self) -> None:
        self._reading_head = False
        document = json.dumps(
            {
                "type": problem_type("request-head-too-large"),
                "title": "Request header fields too large",
                "status": 431,
                "detail": f"A request line and its headers are limited to {self.max_head_bytes} "
                "bytes.",
            }
        ).encode()
        head = (
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
            f"content-type: {PROBLEM_CONTENT_TYPE}\r\n"
            f"content-length: {len(document)}\r\n"
            "connection: close\r\n\r\n"
        ).encode()
        self.logger.warning("refused a request head over %d bytes", self.max_head_bytes)
        self.transport.write(head + document)
        self.transport.close()


def bounded_head_protocol(max_head_bytes: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, refusing request heads over ``max_head_bytes``."""
    return type("BoundedHeadProtocol", (_BoundedHeadProtocol,), {"max_head_bytes": max_head_bytes})
