"""The plan catalogue: the same plan ids, names and prices the monolith was seeded with.

Plans are reference data that both sides hold identically while they serve traffic side by
side, so an answer about a plan never depends on which side gave it.
"""

from __future__ import annotations

from billing_service.domain.plans import Plan
from billing_service.service_layer.unit_of_work import UnitOfWork

__all__ = ["ensure_plan_catalogue", "plan_catalogue"]


def plan_catalogue() -> list[Plan]:
    return [
        Plan(id="starter", name="Starter", price_cents=900, currency="eur"),
        Plan(id="pro", name="Pro", price_cents=2900, currency="eur"),
        Plan(id="business", name="Business", price_cents=9900, currency="eur"),
    ]


async def ensure_plan_catalogue(uow: UnitOfWork) -> int:
    """Add the missing plans and bring the others back to the catalogue; answers how many."""
    catalogue = plan_catalogue()
    async with uow:
        for plan in catalogue:
            stored = await uow.plans.get(plan.id)
            if stored is None:
                uow.plans.add(plan)
                continue
            stored.name, stored.price_cents = plan.name, plan.price_cents
            stored.currency, stored.interval, stored.active = plan.currency, plan.interval, True
        await uow.commit()
    return len(catalogue)
