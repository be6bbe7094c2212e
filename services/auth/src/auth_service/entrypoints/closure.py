"""Closing an account at auth: the monolith's contract (``strangler_closures.http``), request
for request — ``DELETE /api/users/me`` starts it (asking again, or twenty times at once, is
one closure), ``GET /api/users/me/closure`` follows it while the account exists,
``POST /api/users/me/closure/resume`` takes up a closure a declined refund paused — and the
loop that follows billing's and notifications' answers and erases the account once both
confirmed (``AUTH_ACCOUNT_CLOSURE_ENABLED``; `strangler up` turns it on).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from http_platform.loops import Loop
from http_platform.openapi import problem_responses
from http_platform.service_app import root_of
from strangler_closures import Closure, follow
from strangler_closures.http import CLOSURE_PATH, RESUME_PATH, ClosureOut, ClosureProblems

from auth_service.adapters.orm import inbox
from auth_service.bootstrap import AuthProcess, broker_config
from auth_service.domain.users import User
from auth_service.entrypoints.identity import Holder
from auth_service.entrypoints.problems import AUTH_PROBLEMS

__all__ = ["closure_loops", "closure_router"]

PROBLEMS = ClosureProblems.define(AUTH_PROBLEMS)

closure_router = APIRouter(tags=["accounts"])


def _process(request: Request) -> AuthProcess:
    return root_of(request, AuthProcess)


Process = Annotated[AuthProcess, Depends(_process)]


async def _closure_of(process: AuthProcess, user: User) -> Closure | None:
    async with process.sessions() as session:
        return await process.closures.closure_of(session, user.id)


@closure_router.delete(
    "/api/users/me", status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(401)
)
async def close_account(holder: Holder, process: Process, response: Response) -> ClosureOut:
    """Close the account: the subscription is cancelled and the unused part refunded, a
    farewell mail sent, then every personal record erased. Asking again answers the same."""
    user = await process.accounts.holder(holder)
    async with process.sessions() as session:
        closure = await process.closures.request(
            session, user_id=user.id, email=user.email, display_name=user.name
        )
        await session.commit()
    response.headers["Location"] = CLOSURE_PATH
    return ClosureOut.model_validate(closure)


@closure_router.get(CLOSURE_PATH, responses=problem_responses(401, 404))
async def my_closure(holder: Holder, process: Process) -> ClosureOut:
    """Where closing the account stands."""
    closure = await _closure_of(process, await process.accounts.holder(holder))
    if closure is None:
        raise PROBLEMS.never_asked()
    return ClosureOut.model_validate(closure)


@closure_router.post(
    RESUME_PATH, status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(401, 404, 409)
)
async def resume_closure(holder: Holder, process: Process, response: Response) -> ClosureOut:
    """Resume a closure a declined refund paused: billing tries the refund again."""
    user = await process.accounts.holder(holder)
    closure = await _closure_of(process, user)
    if closure is None:
        raise PROBLEMS.never_asked()
    if closure.status != "paused":
        raise PROBLEMS.cannot_resume(closure)
    async with process.sessions() as session:
        resumed = await process.closures.resume(
            session, user_id=user.id, email=user.email, display_name=user.name
        )
        await session.commit()
    response.headers["Location"] = CLOSURE_PATH
    return ClosureOut.model_validate(resumed)


def closure_loops(process: AuthProcess) -> dict[str, Loop]:
    """The consumer of the closures' answers, when ``account_closure_enabled``."""
    settings = process.settings
    if not settings.account_closure_enabled:
        return {}
    answers = process.closures.answers(
        broker_config(settings), settings.account_closure_group, process.sessions, inbox
    )

    async def follow_closures(stop: asyncio.Event) -> None:
        await follow(answers, stop)

    return {"account-closure": follow_closures}
