"""W3C trace context across Kafka: injected into headers when an event is recorded, extracted
when it is consumed, so a consumer's span continues the producer's trace."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

__all__ = ["configure_tracing", "context_from_headers", "current_trace_headers", "tracer"]

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


def context_from_headers(headers: KafkaHeaders | Mapping[str, str]) -> Context:
    items = headers.items() if isinstance(headers, Mapping) else headers
    carrier = {
        name: value.decode("latin-1") if isinstance(value, bytes) else str(value)
        for name, value in items
    }
    return extract(carrier)
