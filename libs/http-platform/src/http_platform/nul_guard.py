"""Pure-ASGI guard that refuses the NUL character (U+0000) anywhere in a request.

PostgreSQL text cannot hold U+0000: a NUL in a path id, a query value or a JSON string
reached the database and came back as a 500. Refusing it at the door turns that into a
precise 400 for every process and every database, before anything is written.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from http_platform.door import RequestDoor

__all__ = ["NulCharacterGuard"]


class NulCharacterGuard(RequestDoor):
    """Answer 400 as a problem document when the path, query or body carries a NUL.

    Add it inside ``BodySizeLimitMiddleware`` (that is, before it with ``add_middleware``),
    so the body it reads whole is already bounded. The door of a ``ServiceApp``
    (``http_platform.door``) with only this guard.
    """

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, max_bytes=None, body_timeout=None, relative=False)
