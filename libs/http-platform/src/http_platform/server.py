"""Serving an app the same way in every process: uvicorn, quiet probes, bounded shutdown."""

from __future__ import annotations

import logging

import uvicorn
from starlette.types import ASGIApp

__all__ = ["serve"]

GRACEFUL_SHUTDOWN_SECONDS = 3


class _HideHealthProbes(logging.Filter):
    """Drop access-log lines of ``/health/*``: the runner polls them and they bury real logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        return not (
            isinstance(args, tuple) and len(args) >= 3 and str(args[2]).startswith("/health/")
        )


def serve(app: ASGIApp, host: str, port: int, *, trust_proxy_headers: bool = True) -> None:
    """Run ``app`` until SIGTERM or Ctrl-C; requests still running get a few seconds to end.

    ``trust_proxy_headers=False`` for the public entry: a client must not be able to claim
    another address with its own ``X-Forwarded-For``.
    """
    logging.getLogger("uvicorn.access").addFilter(_HideHealthProbes())
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        proxy_headers=trust_proxy_headers,
    )
