"""Pure pieces of the eventing mechanism: correlation ids and dead-letter headers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from strangler_eventing import CorrelationMiddleware, correlation_id
from strangler_eventing.dead_letters import DeadLetter, dead_letter_headers


def _echoing_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CorrelationMiddleware)

    @app.get("/")
    async def seen() -> dict[str, str | None]:
        return {"correlation_id": correlation_id()}

    return app


async def test_a_request_without_a_correlation_id_gets_one_and_sees_it_echoed() -> None:
    transport = httpx.ASGITransport(app=_echoing_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get("/")

    assert response.json()["correlation_id"]
    assert response.headers["x-correlation-id"] == response.json()["correlation_id"]


async def test_a_callers_correlation_id_is_kept_for_everything_the_request_causes() -> None:
    transport = httpx.ASGITransport(app=_echoing_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get("/", headers={"X-Request-ID": "checkout-42"})

    assert response.json() == {"correlation_id": "checkout-42"}
    assert correlation_id() is None, "the id does not leak out of the request"


def test_a_dead_letter_keeps_the_original_headers_and_says_why() -> None:
    headers = dead_letter_headers(
        original_headers=[("traceparent", b"00-abc-def-01"), ("dlq.reason", b"stale")],
        topic="strangler.billing",
        partition=2,
        offset=41,
        group="billing-projection",
        reason="handler-failed",
        error="RuntimeError: boom",
        attempts=5,
    )
    letter = DeadLetter("strangler.billing.dlq", 0, 7, b"sub-1", b"{}", tuple(headers))

    assert letter.original_headers == [("traceparent", b"00-abc-def-01")]
    assert letter.info["reason"] == "handler-failed"
    assert letter.info["error"] == "RuntimeError: boom"
    assert letter.info["original-topic"] == "strangler.billing"
    assert (letter.info["original-partition"], letter.info["original-offset"]) == ("2", "41")
    assert (letter.info["consumer-group"], letter.info["attempts"]) == ("billing-projection", "5")
    assert letter.ref == "strangler.billing.dlq:0:7"
