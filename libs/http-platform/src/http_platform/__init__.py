"""Shared HTTP mechanism for every Strangler Fig process.

The names below load on first use, so a command that only reads its settings
(``settings_or_exit``) or migrates does not import the web stack first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from http_platform.body_limit import BodySizeLimitMiddleware
    from http_platform.health import ReadinessCheck, health_router
    from http_platform.metrics import mount_metrics
    from http_platform.nul_guard import NulCharacterGuard
    from http_platform.pagination import MAX_PAGE_SIZE, Page, PageParams, PageQuery
    from http_platform.problem_catalogue import (
        ProblemCatalogue,
        ProblemType,
        every_problem_type,
        problem_type,
    )
    from http_platform.problem_writer import (
        PROBLEM_CONTENT_TYPE,
        Problem,
        problem_document,
        raw_problem_response,
        send_problem,
    )
    from http_platform.problems import ProblemResponse, install_problem_handlers
    from http_platform.server import serve
    from http_platform.settings import settings_or_exit

__all__ = [
    "MAX_PAGE_SIZE",
    "PROBLEM_CONTENT_TYPE",
    "BodySizeLimitMiddleware",
    "NulCharacterGuard",
    "Page",
    "PageParams",
    "PageQuery",
    "Problem",
    "ProblemCatalogue",
    "ProblemResponse",
    "ProblemType",
    "ReadinessCheck",
    "every_problem_type",
    "health_router",
    "install_problem_handlers",
    "mount_metrics",
    "problem_document",
    "problem_type",
    "raw_problem_response",
    "send_problem",
    "serve",
    "settings_or_exit",
]

_HOMES = {
    "BodySizeLimitMiddleware": "body_limit",
    "ReadinessCheck": "health",
    "health_router": "health",
    "mount_metrics": "metrics",
    "NulCharacterGuard": "nul_guard",
    **dict.fromkeys(("MAX_PAGE_SIZE", "Page", "PageParams", "PageQuery"), "pagination"),
    **dict.fromkeys(
        ("ProblemCatalogue", "ProblemType", "every_problem_type", "problem_type"),
        "problem_catalogue",
    ),
    **dict.fromkeys(
        ("PROBLEM_CONTENT_TYPE", "Problem", "problem_document", "raw_problem_response",
         "send_problem"),
        "problem_writer",
    ),
    **dict.fromkeys(("ProblemResponse", "install_problem_handlers"), "problems"),
    "serve": "server",
    "settings_or_exit": "settings",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
