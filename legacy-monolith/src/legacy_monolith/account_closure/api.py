"""``DELETE /api/users/me`` starts closing the account; ``GET /api/users/me/closure`` follows
it while the account exists (once closed, its tokens are refused);
``POST /api/users/me/closure/resume`` takes a paused closure up again. The same contract as
auth's (``strangler_closures.http``)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from http_platform.openapi import problem_responses
from http_platform.problem_catalogue import ProblemCatalogue
from strangler_closures.http import CLOSURE_PATH, RESUME_PATH, ClosureOut, ClosureProblems

from legacy_monolith.account_closure import service
from legacy_monolith.dependencies import CurrentUser, DbSession

__all__ = ["CLOSURE_PROBLEMS", "ClosureOut", "router"]

CLOSURE_PROBLEMS = ProblemCatalogue("legacy-monolith")
PROBLEMS = ClosureProblems.define(CLOSURE_PROBLEMS)

router = APIRouter(tags=["accounts"])


@router.delete(
    "/api/users/me", status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(401)
)
async def close_account(user: CurrentUser, session: DbSession, response: Response) -> ClosureOut:
    """Close the account: the subscription is cancelled and the unused part refunded, a
    farewell mail sent, then every personal record erased. Asking again answers the same."""
    closure = await service.request_closure(session, user)
    response.headers["Location"] = CLOSURE_PATH
    return ClosureOut.model_validate(closure)


@router.get(CLOSURE_PATH, responses=problem_responses(401, 404))
async def my_closure(user: CurrentUser, session: DbSession) -> ClosureOut:
    """Where closing the account stands."""
    closure = await service.closure_of(session, user)
    if closure is None:
        raise PROBLEMS.never_asked()
    return ClosureOut.model_validate(closure)


@router.post(
    RESUME_PATH, status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(401, 404, 409)
)
async def resume_closure(user: CurrentUser, session: DbSession, response: Response) -> ClosureOut:
    """Resume a closure a declined refund paused: billing tries the refund again."""
    closure = await service.closure_of(session, user)
    if closure is None:
        raise PROBLEMS.never_asked()
    if closure.status != "paused":
        raise PROBLEMS.cannot_resume(closure)
    resumed = await service.resume_closure(session, user)
    response.headers["Location"] = CLOSURE_PATH
    return ClosureOut.model_validate(resumed)
