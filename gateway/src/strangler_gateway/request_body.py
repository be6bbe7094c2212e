"""The client's request body, read from ASGI ``receive`` as the upstream consumes it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.types import Receive

from strangler_gateway.faults import BodyTooLarge, ClientClosedRequest, ClientFault, RequestTimeout

__all__ = ["RequestBody"]


class RequestBody:
    """Streams the body to the upstream; keeps it when a second attempt may need it.

    When the request may be retried on legacy (an idempotent request to the new side) or
    mirrored after legacy answered, the chunks read are kept so they can be replayed; the
    limit bounds that memory as it bounds everything else.

    A body the client fails to deliver (over the limit, silent for ``idle_timeout`` seconds,
    or cut off by a disconnect) is recorded in ``client_fault``: the upstream call that was
    reading it fails, and the proxy answers the client's fault instead of the upstream's.
    """

    def __init__(
        self, receive: Receive, limit: int, *, keep: bool, idle_timeout: float | None = None
    ) -> None:
        self._receive = receive
        self._limit = limit
        self._keep = keep
        self._idle_timeout = idle_timeout
        self.kept: list[bytes] = []
        self._size = 0
        self._complete = False
        self.client_fault: ClientFault | None = None

    def replayable(self) -> bytes:
        """The whole body as kept; only meaningful once it was read with ``keep``."""
        return b"".join(self.kept)

    async def chunks(self) -> AsyncIterator[bytes]:
        for chunk in self.kept:
            yield chunk
        while not self._complete:
            chunk = await self._next_chunk()
            if self._keep:
                self.kept.append(chunk)
            if chunk:
                yield chunk

    async def _next_chunk(self) -> bytes:
        try:
            async with asyncio.timeout(self._idle_timeout):
                message = await self._receive()
        except TimeoutError:
            raise self._fault(
                RequestTimeout(
                    f"The client sent nothing of its body for {self._idle_timeout:g} seconds."
                )
            ) from None
        if message["type"] == "http.disconnect":
            raise self._fault(ClientClosedRequest("The client went away while sending its body."))
        chunk: bytes = message.get("body", b"")
        self._complete = not message.get("more_body", False)
        self._size += len(chunk)
        if self._size > self._limit:
            raise self._fault(BodyTooLarge(self._limit))
        return chunk

    def _fault(self, fault: ClientFault) -> ClientFault:
        self.client_fault = fault
        return fault
