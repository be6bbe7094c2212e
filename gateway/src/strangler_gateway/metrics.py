"""Prometheus figures per route and target, served at ``GET /metrics`` on the operator listener.

Collectors live in the process's default registry, as every Strangler Fig process does; a
label lookup and an increment cost a few microseconds on the proxy path.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from prometheus_client import Counter, Histogram
from strangler_flags import Target

__all__ = [
    "DIFFS",
    "EDGE_REFUSALS",
    "ERRORS",
    "FALLBACKS",
    "LATENCY",
    "MIRRORS",
    "REQUESTS",
    "ROLLBACKS",
    "observe",
]

REQUESTS = Counter(
    "strangler_gateway_requests_total", "Requests answered, by route and serving side.",
    ["route", "target"],
)  # fmt: skip
ERRORS = Counter(
    "strangler_gateway_errors_total", "Answers with a 5xx status, by route and serving side.",
    ["route", "target"],
)  # fmt: skip
LATENCY = Histogram(
    "strangler_gateway_request_seconds", "Time to the end of the answer, by route and side.",
    ["route", "target"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
FALLBACKS = Counter(
    "strangler_gateway_fallbacks_total", "Requests the new side failed, retried on legacy.",
    ["route", "cause"],
)  # fmt: skip
MIRRORS = Counter(
    "strangler_gateway_mirrors_total", "Shadow mirrors, by outcome.", ["route", "outcome"]
)
DIFFS = Counter(
    "strangler_gateway_diffs_total", "Shadow comparisons that found a difference.", ["route"]
)
EDGE_REFUSALS = Counter(
    "strangler_gateway_edge_refusals_total",
    "Requests the gateway refused itself for their bearer token, by route and reason.",
    ["route", "reason"],
)
ROLLBACKS = Counter(
    "strangler_gateway_rollbacks_total", "Routes returned to legacy automatically.", ["route"]
)


class _Figures(NamedTuple):
    requests: Counter
    errors: Counter
    latency: Histogram


_FIGURES: dict[tuple[str, Target], _Figures] = {}


def observe(route: str, target: Target, status: int, started: float) -> None:
    """Count one answer; the labelled children are looked up once per route and side."""
    key = (route, target)
    figures = _FIGURES.get(key)
    if figures is None:
        labels = (route, target.value)
        figures = _FIGURES[key] = _Figures(
            REQUESTS.labels(*labels), ERRORS.labels(*labels), LATENCY.labels(*labels)
        )
    figures.requests.inc()
    if status >= 500:
        figures.errors.inc()
    figures.latency.observe(time.perf_counter() - started)
