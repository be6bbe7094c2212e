"""Shared HTTP mechanism for every Strangler Fig process."""

from http_platform.body_limit import BodySizeLimitMiddleware
from http_platform.health import ReadinessCheck, health_router
from http_platform.metrics import mount_metrics
from http_platform.nul_guard import NulCharacterGuard
from http_platform.pagination import MAX_PAGE_SIZE, Page, PageParams, PageQuery
from http_platform.problems import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    ProblemResponse,
    install_problem_handlers,
    problem_type,
)
from http_platform.server import serve

__all__ = [
    "MAX_PAGE_SIZE",
    "PROBLEM_CONTENT_TYPE",
    "BodySizeLimitMiddleware",
    "NulCharacterGuard",
    "Page",
    "PageParams",
    "PageQuery",
    "Problem",
    "ProblemResponse",
    "ReadinessCheck",
    "health_router",
    "install_problem_handlers",
    "mount_metrics",
    "problem_type",
    "serve",
]
