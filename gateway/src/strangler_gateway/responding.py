"""Answering the client: an upstream's answer streamed through, or the gateway's own problem.

Problem documents are written by ``http_platform.problem_writer``, as in every process."""

from __future__ import annotations

import logging

from http_platform.problem_writer import Problem, send_problem
from starlette.types import Send

from strangler_gateway.faults import GatewayFault
from strangler_gateway.headers import Headers
from strangler_gateway.shadow import Capture
from strangler_gateway.upstream_client import UpstreamBroke, UpstreamResponse

__all__ = ["CHUNK_BYTES", "send_fault", "stream_answer"]

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024


async def stream_answer(
    send: Send, response: UpstreamResponse, headers: Headers, capture: Capture | None
) -> bool:
    """Send the upstream's status, ``headers`` and body; ``capture`` keeps a copy for shadow.

    ``False`` when the answer could not be completed — the upstream broke off, or the client
    went away: the status line is gone already, so all that is left is to end the connection.
    """
    try:
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        length = response.content_length
        if length is not None and length <= CHUNK_BYTES:
            # The common small answer: one body message instead of a chunk and an end.
            whole = await response.read()
            if capture is not None:
                capture.add(whole)
            await send({"type": "http.response.body", "body": whole, "more_body": False})
            return True
        async for chunk in response.iter_chunks():
            if capture is not None:
                capture.add(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True
    except (UpstreamBroke, TimeoutError):
        logger.warning("an upstream broke off its answer to %r", response.target)
    except OSError:
        logger.info("the client went away while %r was being answered", response.target)
    return False


async def send_fault(
    send: Send, fault: GatewayFault, *, instance: str, headers: Headers, route: str
) -> None:
    """The fault's problem document, naming the route; ``headers`` are sent with it."""
    problem = Problem(fault.kind, fault.detail, route=route)
    await send_problem(send, problem, instance=instance, headers=[*headers, *fault.answer_headers])
