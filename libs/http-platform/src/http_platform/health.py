"""Liveness and readiness routes, the same two URLs on every process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from http_platform.loops import LoopSupervisor
from http_platform.problem_catalogue import NOT_READY
from http_platform.problem_writer import Problem

__all__ = ["ReadinessCheck", "health_router"]

ReadinessCheck = Callable[[], Awaitable[None]]


def health_router(
    component: str,
    checks: Mapping[str, ReadinessCheck] | None = None,
    *,
    loops: LoopSupervisor | None = None,
) -> APIRouter:
    """``/health/live`` answers while the process runs; ``/health/ready`` runs every check
    and looks at every supervised background loop.

    A check signals failure by raising; readiness then answers 503 naming the failed checks,
    and the loops that are down (restarting after a failure) with why.
    """
    router = APIRouter(tags=["health"])
    readiness = dict(checks or {})

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        """The process is running."""
        return {"status": "ok", "component": component}

    @router.get("/health/ready", response_model=None)
    async def ready() -> dict[str, object] | JSONResponse:
        """Every dependency this process needs answers."""
        results: dict[str, str] = {}
        for name, check in readiness.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:  # a failing dependency must not fail the probe itself
                results[name] = f"failed: {type(exc).__name__}"
        report: dict[str, object] = {"component": component, "checks": results}
        down = loops.down() if loops is not None else {}
        if loops is not None:
            report["loops"] = {name: down.get(name, "running") for name in loops.names}
        if not down and all(result == "ok" for result in results.values()):
            return {"status": "ok", **report}
        failed = [name for name, result in results.items() if result != "ok"] + list(down)
        problem = Problem(NOT_READY, "Not ready: " + ", ".join(failed) + ".")
        problem.extensions.update(report)
        return problem.to_response()

    return router
