"""Billing hears that a user asks to close their account, and starts its part of the closure.

The handler joins the registrations consumer (``strangler.accounts``, billing's group): the
request starts billing's closure saga (``service_layer/account_closure.py``) once per
closure id and attempt (a resumed closure asks again), and the inbox marks the event
processed. A redelivered request finds the saga already started; a crash between the two
starts it again, which answers the same saga.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import AccountClosureRequested, CloudEvent, IntegrationEvent
from strangler_eventing import EventHandler

from billing_service.service_layer.billing import Billing

__all__ = ["closure_requests"]


Handlers = Mapping[type[IntegrationEvent], EventHandler]


def closure_requests(billing: Callable[[], Billing]) -> Handlers:
    """The consumer's handler of ``AccountClosureRequested``, on the process's ``Billing``."""

    async def start_billing_part(
        session: AsyncSession, event: AccountClosureRequested, envelope: CloudEvent
    ) -> None:
        await billing().start_account_closure(
            closure_id=event.closure_id,
            customer_id=event.user_id,
            requested_at=event.requested_at,
            attempt=event.attempt,
        )

    return {AccountClosureRequested: start_billing_part}
