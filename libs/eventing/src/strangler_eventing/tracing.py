"""W3C trace context across Kafka: injected into headers when an event is recorded, extracted
when it is consumed, so a consumer's span continues the producer's trace."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import (
    INVALID_SPAN_ID,
    INVALID_TRACE_ID,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    StatusCode,
    TraceFlags,
)

__all__ = [
    "configure_tracing",
    "consumer_trace",
    "current_trace_headers",
    "request_trace",
    "response_status",
    "spans_are_exported",
    "tracer",
]

KafkaHeaders = Iterable[tuple[str, bytes]]


def configure_tracing(service_name: str) -> None:
    """Install an SDK tracer provider once per process so spans get real trace ids.

    Exporters are added by the deployment (an OTLP collector in compose); without one,
    ids are still generated and propagated, which is what the headers need.
    """
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    trace.set_tracer_provider(
        TracerProvider(resource=Resource.create({"service.name": service_name}))
    )


def tracer() -> trace.Tracer:
    return trace.get_tracer("strangler_eventing")


def current_trace_headers() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of the current span, or nothing outside a span."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


UNTRACED_PATHS = ("/health/", "/metrics")
"""Probes and scrapes: no span (the FastAPI instrumentation excluded them the same way)."""

_TRACE_HEADERS = (b"traceparent", b"tracestate")
_TRACE_HEADER_NAMES = frozenset({"traceparent", "tracestate", *_TRACE_HEADERS})


def spans_are_exported() -> bool:
    """Whether a span built now would go anywhere: a tracer provider with a span processor
    (an exporter added by the deployment, or a test's in-memory one), or another vendor's
    provider. ``configure_tracing``'s provider alone exports nothing."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        active = getattr(provider, "_active_span_processor", None)
        processors = getattr(active, "_span_processors", None)
        return processors is None or bool(processors)
    return not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def _parent(scope: MutableMapping[str, Any]) -> Context:
    carrier = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name in _TRACE_HEADERS
    }
    return extract(carrier) if carrier else Context()


@contextlib.contextmanager
def request_trace(scope: MutableMapping[str, Any]) -> Iterator[trace.Span | None]:
    """Serve an HTTP request inside a span that continues the caller's ``traceparent`` (or
    starts a trace), so every event it records carries the trace on.

    When spans are exported (``spans_are_exported``) it is a real server span, named after
    the route and given its status, which the caller sets; otherwise only the ids are made
    (a non-recording span: two random numbers, no attributes, nothing to end), since building
    a span nobody exports cost ~10 % of a one-query read. Yields the recording span or None.
    """
    path: str = scope.get("path", "")
    if path.startswith(UNTRACED_PATHS):
        yield None
        return
    parent = _parent(scope)
    if spans_are_exported():
        method = scope.get("method", "HTTP")
        span = tracer().start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        )
        with trace.use_span(span, end_on_exit=True, record_exception=True):
            try:
                yield span
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
        return
    with _ids_only(parent):
        yield None


@contextlib.contextmanager
def consumer_trace(
    name: str, headers: KafkaHeaders, attributes: Mapping[str, Any]
) -> Iterator[None]:
    """Apply a consumed event inside a span that continues the producer's trace (its
    ``traceparent`` header), so what the handler records carries the trace on.

    As ``request_trace``: a recorded consumer span only when spans are exported, otherwise
    the ids alone (building, extracting into and ending a span nobody exports was ~5 % of a
    consumer's CPU per event)."""
    parent = extract(
        {
            header.decode("latin-1") if isinstance(header, bytes) else header: value.decode(
                "latin-1"
            )
            for header, value in headers
            if header in _TRACE_HEADER_NAMES
        }
    )
    if spans_are_exported():
        with tracer().start_as_current_span(
            name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes
        ):
            yield
        return
    with _ids_only(parent):
        yield


@contextlib.contextmanager
def _ids_only(parent: Context) -> Iterator[None]:
    """The caller's trace continued by a non-recording span: two random numbers, no
    attributes, nothing to end; a new trace when the caller has none."""
    caller = trace.get_current_span(parent).get_span_context()
    ids = SpanContext(
        trace_id=caller.trace_id if caller.is_valid else _random_id(128, INVALID_TRACE_ID),
        span_id=_random_id(64, INVALID_SPAN_ID),
        is_remote=False,
        trace_flags=caller.trace_flags if caller.is_valid else TraceFlags(TraceFlags.SAMPLED),
        trace_state=caller.trace_state if caller.is_valid else None,
    )
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(ids), parent))
    try:
        yield
    finally:
        otel_context.detach(token)


def response_status(span: trace.Span | None, status: int) -> None:
    """Record the response's status on a request's recording span (5xx marks an error)."""
    if span is None:
        return
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(StatusCode.ERROR)


def _random_id(bits: int, invalid: int) -> int:
    value = random.getrandbits(bits)
    while value == invalid:
        value = random.getrandbits(bits)
    return value
