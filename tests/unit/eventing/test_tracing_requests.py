"""A request's trace, carried into the events it records: the caller's ``traceparent`` goes
on (or a trace starts), and a server span is recorded only when spans are exported."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from http_platform.service_app import NO_FASTAPI_TELEMETRY
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from strangler_eventing import CorrelationMiddleware, configure_tracing
from strangler_eventing.tracing import current_trace_headers, spans_are_exported

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER = f"00-{TRACE_ID}-b7ad6b7169203331-01"


def _app() -> FastAPI:
    app = FastAPI(telemetry=NO_FASTAPI_TELEMETRY)  # as every deployable's app (service_app)
    app.add_middleware(CorrelationMiddleware)

    @app.get("/orders/{order_id}")
    async def headers_an_event_would_carry(order_id: str) -> dict[str, str]:
        return current_trace_headers()

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return current_trace_headers()

    return app


async def _get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.get(path, headers=headers)


def _parts(traceparent: str) -> list[str]:
    return traceparent.split("-")


async def test_a_request_continues_the_callers_trace_in_what_it_records() -> None:
    carried = (await _get("/orders/1", {"traceparent": CALLER})).json()["traceparent"]

    version, trace_id, span_id, flags = _parts(carried)
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    assert span_id != _parts(CALLER)[2], "the request is a span of its own within the trace"


async def test_a_request_without_a_trace_starts_one_per_request() -> None:
    first = (await _get("/orders/1")).json()["traceparent"]
    second = (await _get("/orders/1")).json()["traceparent"]

    assert _parts(first)[1] != _parts(second)[1]
    assert int(_parts(first)[1], 16)
    assert int(_parts(first)[2], 16)
    assert current_trace_headers() == {}, "the trace does not leak out of the request"


async def test_probes_run_outside_any_trace() -> None:
    assert (await _get("/health/live", {"traceparent": CALLER})).json() == {}


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    configure_tracing("tracing-unit-tests")
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


async def test_with_an_exporter_each_request_is_a_recorded_server_span(
    exported: InMemorySpanExporter,
) -> None:
    assert spans_are_exported()

    carried = (await _get("/orders/7", {"traceparent": CALLER})).json()["traceparent"]

    [span] = [s for s in exported.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert span.name == "GET /orders/{order_id}"
    assert span.context is not None
    assert span.parent is not None
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert format(span.parent.span_id, "016x") == _parts(CALLER)[2]
    assert format(span.context.span_id, "016x") == _parts(carried)[2]
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200
