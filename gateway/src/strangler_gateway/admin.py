"""The operator surface: the admin API under ``/_strangler``, ``/metrics`` and ``/health/*``.

Served on the operator listener only (listeners.py), never on the public entry. Every
``/_strangler`` call needs ``Authorization: Bearer <admin token>``: none is a 401
``operator-token-required``, a wrong one a 403 ``operator-token-wrong``, as on every
component's internal endpoints.

FastAPI is fine here: these calls are rare and human-paced; the proxy path never passes
through this app.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials
from http_platform import health_router, install_problem_handlers, mount_metrics
from http_platform.openapi import install_problem_openapi, problem_responses
from http_platform.operator import operator_bearer, verify_operator_token
from http_platform.problem_writer import Problem
from http_platform.service_app import ServiceApp, root_of
from pydantic import BaseModel, Field
from strangler_flags import SIDE_EFFECT_MODES, Mode, RouteFlag

from strangler_gateway.problem_types import ROUTE_BORN_NEW, SIDE_EFFECT_MODE, UNKNOWN_ROUTE
from strangler_gateway.root import GatewayRoot
from strangler_gateway.side_effects import SIDE_EFFECTS, SideEffect, side_effect_named
from strangler_gateway.store import KILL_SWITCH_SUBJECT

__all__ = ["ADMIN_PREFIX", "create_admin_app"]

ADMIN_PREFIX = "/_strangler"


class FlagView(BaseModel):
    route: str
    prefix: str
    mode: Mode
    percent: int
    force_new_user_ids: list[str]
    force_new_email_domains: list[str]


class SideEffectView(BaseModel):
    """A side-effect flag (side_effects.py): who does the work, ``legacy`` or ``new``."""

    name: str
    mode: Mode
    legacy: str
    new: str
    force_new_user_ids: list[str]
    force_new_email_domains: list[str]


class FlagsView(BaseModel):
    kill_switch: bool
    flags: list[FlagView]
    side_effects: list[SideEffectView] = Field(default_factory=list)


class FlagChange(BaseModel):
    mode: Mode
    percent: int = Field(default=0, ge=0, le=100)
    force_new_user_ids: list[str] = Field(default_factory=list)
    force_new_email_domains: list[str] = Field(default_factory=list)
    reason: str = ""


class AuditView(BaseModel):
    at: datetime
    who: str
    subject: str
    old: dict[str, Any] | None
    new: dict[str, Any]
    reason: str


class KillSwitchChange(BaseModel):
    state: Literal["on", "off"]
    reason: str = ""


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(operator_bearer)],
    x_strangler_actor: Annotated[str | None, Header()] = None,
) -> str:
    """The caller's name for the audit trail (``X-Strangler-Actor``), once authenticated."""
    verify_operator_token(credentials, root_of(request, GatewayRoot).admin_token)
    return (x_strangler_actor or "admin")[:200]


Admin = Annotated[str, Depends(require_admin)]


class DifferenceView(BaseModel):
    at: datetime
    method: str
    target: str
    fields: list[str]


class ShadowView(BaseModel):
    """``differing`` answers had a real difference; ``noisy`` ones differed only in fields
    legacy also changes between two calls (``noisy_fields``, learned from ``noise_samples``)."""

    route: str
    mirrored: int
    compared: int
    differing: int
    noisy: int
    dropped: int
    failed: int
    diff_rate: float
    noise_samples: int
    noisy_fields: list[str]
    recent: list[DifferenceView]


class RouteView(BaseModel):
    route: str
    prefix: str
    flag: str
    legacy_upstream: str | None
    new_upstream: str
    ignored_fields: list[str]
    unordered_fields: list[str]
    compared_headers: list[str]
    mirror_writes: bool
    noise_sample_rate: float
    rollback_window_seconds: float
    rollback_min_calls: int
    rollback_max_error_rate: float
    rollback_max_p99_seconds: float


def create_admin_app(root: GatewayRoot) -> ServiceApp[GatewayRoot]:
    """The operator surface over ``root``; ``/health/ready`` names the background loops."""
    routes, store, shadow = root.routes, root.store, root.shadow

    def view() -> FlagsView:
        state = store.current()
        return FlagsView(
            kill_switch=state.kill_switch,
            flags=[
                FlagView(
                    route=route.name,
                    prefix=route.prefix,
                    mode=state.flag(route.flag).mode,
                    percent=state.flag(route.flag).percent,
                    force_new_user_ids=sorted(state.flag(route.flag).force_new_user_ids),
                    force_new_email_domains=sorted(state.flag(route.flag).force_new_email_domains),
                )
                for route in sorted(routes.routes, key=lambda r: r.name)
                if not route.born_new
            ],
            side_effects=[
                SideEffectView(
                    name=effect.name,
                    mode=state.flag(effect.name).mode,
                    legacy=effect.legacy,
                    new=effect.new,
                    force_new_user_ids=sorted(state.flag(effect.name).force_new_user_ids),
                    force_new_email_domains=sorted(state.flag(effect.name).force_new_email_domains),
                )
                for effect in SIDE_EFFECTS
            ],
        )

    def flag_of(change: FlagChange) -> RouteFlag:
        return RouteFlag(
            mode=change.mode,
            percent=change.percent,
            force_new_user_ids=frozenset(change.force_new_user_ids),
            force_new_email_domains=frozenset(d.lower() for d in change.force_new_email_domains),
        )

    async def set_side_effect(effect: SideEffect, change: FlagChange, who: str) -> FlagsView:
        if change.mode not in SIDE_EFFECT_MODES:
            raise Problem(
                SIDE_EFFECT_MODE,
                f"{effect.name!r} is done by one side, legacy or new, not {change.mode.value}.",
            )
        await store.set_flag(effect.name, flag_of(change), who=who, reason=change.reason)
        return view()

    # Every call may be refused for its token: 401 without one, 403 with a wrong one.
    router = APIRouter(prefix=ADMIN_PREFIX, tags=["admin"], responses=problem_responses(401, 403))

    @router.get("/flags")
    async def list_flags(_: Admin) -> FlagsView:
        """Every route's flag, every side-effect flag (``mail``) and the kill switch."""
        return view()

    @router.get("/flags/history")
    async def history(_: Admin, route: str | None = None, limit: int = 100) -> list[AuditView]:
        """Flag and kill-switch changes, latest first; ``route=kill-switch`` for the switch,
        ``route=mail`` for a side-effect flag."""
        subject = route
        if route is not None and route != KILL_SWITCH_SUBJECT:
            subject = next((r.flag for r in routes.routes if r.name == route), route)
        entries = await store.history(subject, max(1, min(limit, 1000)))
        return [
            AuditView(
                at=e.at,
                who=e.who,
                subject=e.subject,
                old=dict(e.old) if e.old is not None else None,
                new=dict(e.new),
                reason=e.reason,
            )
            for e in entries
        ]

    @router.put("/flags/{route_name}", responses=problem_responses(404, 409, 422))
    async def set_flag(route_name: str, change: FlagChange, who: Admin) -> FlagsView:
        """Set one route's mode, canary percentage and targeting, or a side effect's side."""
        effect = side_effect_named(route_name)
        if effect is not None:
            return await set_side_effect(effect, change, who)
        route = next((r for r in routes.routes if r.name == route_name), None)
        if route is None:
            raise Problem(UNKNOWN_ROUTE, f"No route is named {route_name!r}.")
        if route.born_new:
            raise Problem(
                ROUTE_BORN_NEW,
                f"Route {route_name!r} was born in its service; it is always served by new.",
            )
        await store.set_flag(route.flag, flag_of(change), who=who, reason=change.reason)
        return view()

    @router.get("/routes")
    async def list_routes(_: Admin) -> list[RouteView]:
        """The route table with each route's shadow and rollback rules."""
        return [
            RouteView(
                route=r.name,
                prefix=r.prefix,
                flag=r.flag,
                legacy_upstream=r.legacy_upstream,
                new_upstream=r.new_upstream,
                ignored_fields=list(r.shadow.compare.ignore),
                unordered_fields=list(r.shadow.compare.unordered),
                compared_headers=list(r.shadow.compare.headers),
                mirror_writes=r.shadow.mirror_writes,
                noise_sample_rate=r.shadow.noise_sample_rate,
                rollback_window_seconds=r.rollback.window_seconds,
                rollback_min_calls=r.rollback.min_calls,
                rollback_max_error_rate=r.rollback.max_error_rate,
                rollback_max_p99_seconds=r.rollback.max_p99_seconds,
            )
            for r in sorted(routes.routes, key=lambda r: r.name)
        ]

    @router.get("/diffs/{route_name}", responses=problem_responses(404))
    async def diffs(route_name: str, _: Admin) -> ShadowView:
        """Shadow figures of one route and its latest differences, newest first."""
        if not any(r.name == route_name for r in routes.routes):
            raise Problem(UNKNOWN_ROUTE, f"No route is named {route_name!r}.")
        stats = shadow.stats(route_name)
        return ShadowView(
            route=route_name,
            mirrored=stats.mirrored,
            compared=stats.compared,
            differing=stats.differing,
            noisy=stats.noisy,
            dropped=stats.dropped,
            failed=stats.failed,
            diff_rate=stats.diff_rate,
            noise_samples=stats.noise_samples,
            noisy_fields=sorted(stats.noisy_fields),
            recent=[
                DifferenceView(at=d.at, method=d.method, target=d.target, fields=d.fields)
                for d in stats.recent
            ],
        )

    @router.post("/kill-switch")
    async def kill_switch(change: KillSwitchChange, who: Admin) -> FlagsView:
        """Force every route to legacy at once (``on``), or hand control back to the flags."""
        await store.set_kill_switch(change.state == "on", who=who, reason=change.reason)
        return view()

    app = ServiceApp(root=root, title="Strangler gateway admin",
                     openapi_url=f"{ADMIN_PREFIX}/openapi.json",
                     docs_url=f"{ADMIN_PREFIX}/docs", redoc_url=None)  # fmt: skip
    install_problem_handlers(app)
    install_problem_openapi(app)
    app.include_router(router)
    app.include_router(health_router("gateway", loops=root.loops))
    mount_metrics(app)
    return app
