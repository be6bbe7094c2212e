"""``GET /metrics`` in the Prometheus text format, from the process's default registry."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import make_asgi_app

__all__ = ["mount_metrics"]


def mount_metrics(app: FastAPI, path: str = "/metrics") -> None:
    app.mount(path, make_asgi_app())
