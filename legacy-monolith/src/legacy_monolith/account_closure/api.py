"""``DELETE /api/users/me`` starts closing the account; ``GET /api/users/me/closure`` follows
it while the account exists (once closed, its tokens are refused)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from http_platform import Problem
from http_platform.openapi import problem_responses
from http_platform.problem_catalogue import ProblemCatalogue
from pydantic import BaseModel, ConfigDict

from legacy_monolith.account_closure import service
from legacy_monolith.dependencies import CurrentUser, DbSession

__all__ = ["CLOSURE_NOT_FOUND", "ClosureOut", "router"]

CLOSURE_PROBLEMS = ProblemCatalogue("legacy-monolith")
CLOSURE_NOT_FOUND = CLOSURE_PROBLEMS.define(
    "account-closure-not-found",
    "Account closure not found",
    404,
    "The account has not asked to be closed (DELETE /api/users/me).",
)

router = APIRouter(tags=["accounts"])


class ClosureOut(BaseModel):
    """Where closing the account stands: ``requested`` (under way), ``paused`` (billing could
    not refund: ``declined_reason`` says why) or ``closed``; and each participant's answer."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    billing: str | None
    notifications: str | None
    refunded_cents: int | None
    currency: str | None
    declined_reason: str | None
    requested_at: datetime
    closed_at: datetime | None


@router.delete(
    "/api/users/me", status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(401)
)
async def close_account(user: CurrentUser, session: DbSession, response: Response) -> ClosureOut:
    """Close the account: the subscription is cancelled and the unused part refunded, a
    farewell mail sent, then every personal record erased. Asking again answers the same."""
    closure = await service.request_closure(session, user)
    response.headers["Location"] = "/api/users/me/closure"
    return ClosureOut.model_validate(closure)


@router.get("/api/users/me/closure", responses=problem_responses(401, 404))
async def my_closure(user: CurrentUser, session: DbSession) -> ClosureOut:
    """Where closing the account stands."""
    closure = await service.closure_of(session, user)
    if closure is None:
        raise Problem(CLOSURE_NOT_FOUND, "This account has not asked to be closed.")
    return ClosureOut.model_validate(closure)
