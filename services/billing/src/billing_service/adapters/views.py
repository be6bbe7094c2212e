"""Reads that need no aggregate: the query side, apart from the unit of work.

The public plan catalogue is billing's hottest read and changes nothing, so it loads no
``Plan`` entities and opens no transaction of the unit of work: one Core statement (the
page and its total) read in one go by ``strangler_persistence.read_page`` — on PostgreSQL
one round trip instead of three (``BEGIN``, the statement, ``ROLLBACK``), on SQLite no hop
to the connection's thread — the monolith's catalogue read exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_persistence import read_page, reading

from billing_service.adapters.orm import customers, plans, sagas, subscriptions
from billing_service.service_layer.checkout import CHECKOUT, CheckoutStanding

__all__ = ["active_plans", "checkout_standing"]

ACTIVE_PLANS = (
    select(plans.c.id, plans.c.name, plans.c.price_cents, plans.c.currency, plans.c.interval)
    .where(plans.c.active)
    .order_by(plans.c.price_cents, plans.c.id)
)
"""The public catalogue, cheapest first, built once."""


async def active_plans(engine: AsyncEngine, limit: int, offset: int) -> tuple[Sequence[Any], int]:
    """A page of the active plans, as rows with the plan's columns as attributes, and the
    number of active plans."""
    return await read_page(engine, ACTIVE_PLANS, limit, offset)


def _current(column: Any) -> Any:
    """The customer's active or pending subscription's ``column`` (the one that keeps them
    from another), as ``SubscriptionRepository.active_for`` finds it."""
    return (
        select(column)
        .where(
            subscriptions.c.customer_id == bindparam("customer_id"),
            subscriptions.c.status.in_(("active", "pending")),
        )
        .order_by(subscriptions.c.id)
        .limit(1)
        .scalar_subquery()
    )


CHECKOUT_STANDING = select(
    exists().where(customers.c.id == bindparam("customer_id")).label("customer_known"),
    select(plans.c.active)
    .where(plans.c.id == bindparam("plan_id"))
    .scalar_subquery()
    .label("plan_active"),
    _current(subscriptions.c.id).label("subscription_id"),
    _current(subscriptions.c.plan_id).label("subscription_plan_id"),
    select(sagas.sagas.c.id)
    .where(
        sagas.sagas.c.saga_type == CHECKOUT,
        sagas.sagas.c.idempotency_key == bindparam("saga_key"),
    )
    .scalar_subquery()
    .label("earlier_checkout"),
)
"""What a checkout's POST checks, as one statement built once."""


async def checkout_standing(
    engine: AsyncEngine, customer_id: str, plan_id: str, saga_key: str | None
) -> CheckoutStanding:
    """Whether billing knows the customer, whether the plan is on sale, the customer's
    current subscription and the checkout already holding the key (none without one):
    one statement in autocommit, no unit of work, no entities (the unit of work's three
    reads, with its ``BEGIN`` and ``ROLLBACK``, measured 0.82 ms of CPU against 0.24 ms;
    the key's look-up was a round trip of its own before them)."""
    async with reading(engine) as connection:
        row = (
            await connection.execute(
                CHECKOUT_STANDING,
                {"customer_id": customer_id, "plan_id": plan_id, "saga_key": saga_key},
            )
        ).one()
    current = (
        (row.subscription_id, row.subscription_plan_id) if row.subscription_id is not None else None
    )
    return CheckoutStanding(
        bool(row.customer_known), bool(row.plan_active), current, row.earlier_checkout
    )
