"""Health probes, named by URL: `http(s)://…` answers 200, or `tcp://host:port` accepts."""

import asyncio
import contextlib
from urllib.parse import urlsplit

import httpx

__all__ = ["PROBE_TIMEOUT_SECONDS", "is_healthy", "probe_client", "wait_until_healthy"]

PROBE_TIMEOUT_SECONDS = 2.0
_POLL_INTERVAL_SECONDS = 0.1


def probe_client() -> httpx.AsyncClient:
    # Proxies from the environment must not intercept probes of local processes, and no
    # probe connection is kept open: a server stopping would wait for it to close.
    return httpx.AsyncClient(
        timeout=PROBE_TIMEOUT_SECONDS,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


async def is_healthy(health_url: str, client: httpx.AsyncClient) -> bool:
    target = urlsplit(health_url)
    if target.scheme == "tcp":
        return await _accepts_connections(target.hostname or "127.0.0.1", target.port or 0)
    try:
        response = await client.get(health_url)
    except httpx.HTTPError:
        return False
    return response.status_code == httpx.codes.OK


async def wait_until_healthy(health_url: str, client: httpx.AsyncClient) -> None:
    """Return once the probe succeeds; the caller bounds how long that may take."""
    while True:
        if await is_healthy(health_url, client):
            return
        await asyncio.sleep(_POLL_INTERVAL_SECONDS)


async def _accepts_connections(host: str, port: int) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
