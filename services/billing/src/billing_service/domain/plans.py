"""The plans a customer can subscribe to: a monthly price in a currency."""

from __future__ import annotations

__all__ = ["Plan"]


class Plan:
    """Reference data, seeded identically on both sides of the extraction."""

    def __init__(
        self,
        *,
        id: str,
        name: str,
        price_cents: int,
        currency: str,
        interval: str = "month",
        active: bool = True,
    ) -> None:
        self.id = id
        self.name = name
        self.price_cents = price_cents
        self.currency = currency
        self.interval = interval
        self.active = active
