"""In-memory stand-ins for billing's adapters: a unit of work over dicts, a payment provider,
and a clock that moves only when told.

The fake unit of work behaves like a transaction: it works on a copy of the store and puts
the copy back only on commit, so a refused request leaves the store as it was, and events
reach ``store.published`` only when their change commits.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Self, TypeVar

from billing_service.domain.customers import Customer
from billing_service.domain.events import DomainEvent
from billing_service.domain.invoices import Invoice
from billing_service.domain.payments import Payment
from billing_service.domain.plans import Plan
from billing_service.domain.records import Aggregate
from billing_service.domain.refunds import Refund
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer.payment_provider import (
    CardDeclined,
    Charge,
    ChargeInFlight,
    ProviderRejected,
    ProviderTimeout,
    RefundReceipt,
)
from billing_service.service_layer.repositories import Slice
from billing_service.service_layer.unit_of_work import UnitOfWork
from strangler_contracts.payments import counts_as_declined

__all__ = [
    "DECLINED_CARD",
    "GOOD_CARD",
    "HANGING_CARD",
    "FakeClock",
    "FakePaymentProvider",
    "FakeStore",
    "FakeUnitOfWork",
    "ProcessDied",
]

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
HANGING_CARD = "4000000000000077"

T = TypeVar("T")


@dataclass
class FakeStore:
    """What a database would hold, table by table, and the events committed so far."""

    customers: dict[str, Customer] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    published: list[DomainEvent] = field(default_factory=list)
    commits: int = 0

    def tables(self) -> dict[str, dict[str, Any]]:
        return {
            "customers": self.customers,
            "plans": self.plans,
            "subscriptions": self.subscriptions,
            "invoices": self.invoices,
            "payments": self.payments,
            "refunds": self.refunds,
        }

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every record's attributes, to compare the store before and after a request."""
        return {
            name: {key: _attributes(item) for key, item in table.items()}
            for name, table in self.tables().items()
        }


def _attributes(item: Any) -> dict[str, Any]:
    return {name: value for name, value in vars(item).items() if name != "events"}


class _Repository(Generic[T]):
    def __init__(self, items: dict[str, T]) -> None:
        self.items = items

    def add(self, item: T) -> None:
        self.items[item.id] = item  # type: ignore[attr-defined]

    async def get(self, identifier: str) -> T | None:
        return self.items.get(identifier)

    async def attach(self, item: T) -> T:
        return self.items[item.id]  # type: ignore[attr-defined]

    def _where(self, **values: Any) -> list[T]:
        return [
            item
            for item in self.items.values()
            if all(getattr(item, name) == value for name, value in values.items())
        ]


def _page(items: list[T], limit: int, offset: int) -> Slice[T]:
    return items[offset : offset + limit], len(items)


class _Plans(_Repository[Plan]):
    async def active(self, limit: int, offset: int) -> Slice[Plan]:
        plans = sorted(self._where(active=True), key=lambda p: (p.price_cents, p.id))
        return _page(plans, limit, offset)


class _Subscriptions(_Repository[Subscription]):
    async def active_for(self, customer_id: str) -> Subscription | None:
        blocking = [s for s in self._where(customer_id=customer_id) if s.status != "cancelled"]
        return next(iter(blocking), None)

    async def of_customer(self, customer_id: str, limit: int, offset: int) -> Slice[Subscription]:
        rows = sorted(self._where(customer_id=customer_id), key=lambda s: s.id)
        return _page(sorted(rows, key=lambda s: s.created_at, reverse=True), limit, offset)


class _Invoices(_Repository[Invoice]):
    async def open_of_subscription(self, subscription_id: str) -> list[Invoice]:
        return self._where(subscription_id=subscription_id, status="open")

    async def of_customer(self, customer_id: str, limit: int, offset: int) -> Slice[Invoice]:
        rows = sorted(self._where(customer_id=customer_id), key=lambda i: i.id)
        return _page(sorted(rows, key=lambda i: i.issued_at, reverse=True), limit, offset)


class _Payments(_Repository[Payment]):
    async def by_key(self, customer_id: str, idempotency_key: str) -> Payment | None:
        found = self._where(customer_id=customer_id, idempotency_key=idempotency_key)
        return next(iter(found), None)

    async def succeeded_for(self, invoice_id: str) -> Payment | None:
        return next(iter(self._where(invoice_id=invoice_id, status="succeeded")), None)

    async def declined_attempts(self, invoice_id: str) -> int:
        return sum(
            counts_as_declined(p.status, p.failure_code) for p in self._where(invoice_id=invoice_id)
        )


class _Refunds(_Repository[Refund]):
    async def by_key(self, invoice_id: str, idempotency_key: str) -> Refund | None:
        return next(iter(self._where(invoice_id=invoice_id, idempotency_key=idempotency_key)), None)


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def __aenter__(self) -> Self:
        self._working = copy.deepcopy(self.store)
        self._events: list[DomainEvent] = []
        self.customers = _Repository(self._working.customers)
        self.plans = _Plans(self._working.plans)
        self.subscriptions = _Subscriptions(self._working.subscriptions)
        self.invoices = _Invoices(self._working.invoices)
        self.payments = _Payments(self._working.payments)
        self.refunds = _Refunds(self._working.refunds)
        return self

    def _aggregates(self) -> Iterable[Aggregate]:
        return [*self._working.subscriptions.values(), *self._working.invoices.values()]

    async def _record(self, events: list[DomainEvent]) -> None:
        self._events.extend(events)

    async def _commit(self) -> None:
        for name, table in self._working.tables().items():
            setattr(self.store, name, table)
        self.store.published.extend(self._events)
        self.store.commits += 1
        self._events = []
        self._working = copy.deepcopy(self.store)

    async def rollback(self) -> None:
        self._events = []


class ProcessDied(BaseException):
    """What the provider call looks like from a process killed in the middle of it."""


@dataclass(frozen=True)
class ChargeRequest:
    key: str
    card_number: str
    amount_cents: int
    description: str


class FakePaymentProvider:
    """Charges 4242…, declines 4000…0002, times out for 4000…0077, and, like the real one,
    answers a key it already charged with the same charge and charges nothing more.

    ``die_on_next_charge`` makes the next call never return to its caller, as when the
    billing process is killed mid-call. ``held_elsewhere`` holds keys another request is
    running (the other side of the seam paying the same invoice attempt).
    """

    def __init__(self) -> None:
        self.requests: list[ChargeRequest] = []
        self.charges: dict[str, Charge] = {}
        self.refunds: dict[str, tuple[str, RefundReceipt]] = {}
        self.die_on_next_charge = False
        self.timing_out = False
        self.held_elsewhere: set[str] = set()
        self.closed = False

    async def charge(
        self,
        *,
        amount_cents: int,
        currency: str,
        card_number: str,
        description: str,
        key: str,
        timeout_seconds: float | None = None,
    ) -> Charge:
        self.requests.append(ChargeRequest(key, card_number, amount_cents, description))
        if self.die_on_next_charge:
            self.die_on_next_charge = False
            raise ProcessDied
        if key in self.held_elsewhere:
            raise ChargeInFlight(f"A request with Idempotency-Key {key!r} is still in flight.")
        if key in self.charges:
            return self.charges[key]
        if card_number == DECLINED_CARD:
            raise CardDeclined("generic_decline", "The card was declined.")
        if card_number == HANGING_CARD or self.timing_out:
            raise ProviderTimeout("the card network did not answer")
        self.charges[key] = Charge(f"ch_fake_{len(self.charges) + 1}", amount_cents, currency)
        return self.charges[key]

    async def refund(self, *, charge_id: str, amount_cents: int, key: str) -> RefundReceipt:
        if key in self.refunds:
            return self.refunds[key][1]
        charge = next((c for c in self.charges.values() if c.charge_id == charge_id), None)
        if charge is None:
            raise ProviderRejected(404, f"No charge {charge_id!r}.")
        refunded = sum(r.amount_cents for c, r in self.refunds.values() if c == charge_id)
        if amount_cents > charge.amount_cents - refunded:
            raise ProviderRejected(422, "The refund exceeds what is left of the charge.")
        receipt = RefundReceipt(f"re_fake_{len(self.refunds) + 1}", amount_cents)
        self.refunds[key] = (charge_id, receipt)
        return receipt

    async def aclose(self) -> None:
        self.closed = True

    def charged(self) -> list[Charge]:
        return list(self.charges.values())


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 31, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
