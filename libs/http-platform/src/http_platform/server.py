"""Serving an app the same way in every process: uvicorn, quiet probes, bounded request heads,
bounded shutdown."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp

from http_platform.access_log import AccessLog
from http_platform.heap import settle_heap
from http_platform.request_head import DEFAULT_MAX_HEAD_BYTES, bounded_head_protocol

__all__ = ["serve"]

GRACEFUL_SHUTDOWN_SECONDS = 3


def serve(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    trust_proxy_headers: bool = True,
    max_head_bytes: int = DEFAULT_MAX_HEAD_BYTES,
    access_log: bool = True,
) -> None:
    """Run ``app`` until SIGTERM or Ctrl-C; requests still running get a few seconds to end.

    ``trust_proxy_headers=False`` for the public entry: a client must not be able to claim
    another address with its own ``X-Forwarded-For``. A request whose line and headers pass
    ``max_head_bytes`` is answered 431 before it is read whole (``request_head``).
    ``access_log=False`` where a line per request costs too much (the gateway: ~100 µs CPU
    per request measured by ``bench/gateway.py``; it has ``/metrics`` and request ids). The
    line is uvicorn's, written by ``AccessLog`` (``access_log``) rather than uvicorn's
    logging, and none for the runner's ``/health/*`` probes. The app built, the garbage
    collector is set for serving (``heap.settle_heap``).
    """
    settle_heap()
    uvicorn.run(
        AccessLog(app) if access_log else app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        proxy_headers=trust_proxy_headers,
        http=bounded_head_protocol(max_head_bytes),
        access_log=False,
    )
