"""Pure-ASGI guard that refuses request bodies over a size limit before the app reads them."""

from __future__ import annotations

from starlette.types import ASGIApp

from http_platform.door import RequestDoor

__all__ = ["BodySizeLimitMiddleware"]


class BodySizeLimitMiddleware(RequestDoor):
    """Answer 413 as a problem document when a body exceeds ``max_bytes``, and 408 when the
    client stops sending its body for ``body_timeout`` seconds.

    A declared ``Content-Length`` over the limit is refused before the app runs. A chunked
    body is read up to the limit before the app runs and refused as soon as it crosses it:
    the app never sees a partial body and never writes anything for it. Both refusals close
    the connection. The door of a ``ServiceApp`` (``http_platform.door``) with only this
    guard.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, body_timeout: float = 10.0) -> None:
        super().__init__(app, max_bytes, body_timeout, refuse_nul=False, relative=False)
