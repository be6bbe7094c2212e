"""What a side serves of a closure, the same on every side: the closure as JSON
(``ClosureOut``) and the refusals (``ClosureProblems``, defined in the side's own catalogue
with the same slug, title and status everywhere, so a client cannot tell which side answered).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from http_platform import Problem
from http_platform.problem_catalogue import ProblemCatalogue, ProblemType
from pydantic import BaseModel, ConfigDict

from strangler_closures.accounts_side import Closure

__all__ = ["CLOSURE_PATH", "RESUME_PATH", "ClosureOut", "ClosureProblems"]

CLOSURE_PATH = "/api/users/me/closure"
RESUME_PATH = "/api/users/me/closure/resume"


class ClosureOut(BaseModel):
    """Where closing the account stands: ``requested`` (under way), ``paused`` (billing could
    not refund: ``declined_reason`` says why; ``POST /api/users/me/closure/resume`` asks
    again) or ``closed``; each participant's answer, and the ``attempt`` billing is on."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    billing: str | None
    notifications: str | None
    refunded_cents: int | None
    currency: str | None
    declined_reason: str | None
    attempt: int
    requested_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class ClosureProblems:
    not_found: ProblemType
    not_paused: ProblemType

    @classmethod
    def define(cls, catalogue: ProblemCatalogue) -> ClosureProblems:
        """The closure's refusals in ``catalogue``, as every side defines them."""
        return cls(
            not_found=catalogue.define(
                "account-closure-not-found",
                "Account closure not found",
                404,
                "The account has not asked to be closed (DELETE /api/users/me).",
            ),
            not_paused=catalogue.define(
                "account-closure-not-paused",
                "Account closure not paused",
                409,
                "Only a closure a declined refund paused can be resumed.",
            ),
        )

    def never_asked(self) -> Problem:
        return Problem(self.not_found, "This account has not asked to be closed.")

    def cannot_resume(self, closure: Closure) -> Problem:
        return Problem(
            self.not_paused,
            f"The closure is {closure.status}, not paused: there is nothing to resume.",
        )
