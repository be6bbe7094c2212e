"""``GET /metrics`` in the Prometheus text format, from the process's default registry."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["mount_metrics"]


async def _metrics(_request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def mount_metrics(app: FastAPI, path: str = "/metrics") -> None:
    """Serve the metrics at exactly ``path`` (a mounted app would redirect to ``path/``)."""
    app.add_route(path, _metrics, methods=["GET"], include_in_schema=False)
