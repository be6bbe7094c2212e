"""Monthly billing periods: the same day next month, clamped to the month's last day."""

from __future__ import annotations

import calendar
from datetime import datetime

__all__ = ["next_period_end", "unused_part_cents"]


def next_period_end(start: datetime) -> datetime:
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(
        year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1])
    )


def unused_part_cents(
    price_cents: int, period_start: datetime, period_end: datetime, at: datetime
) -> int:
    """What is left of a period's price at ``at``, in proportion to the time left, rounded
    down to the cent: nobody is given back more than the time they did not use. All of it
    before the period starts, nothing once it has ended."""
    length = (period_end - period_start).total_seconds()
    if length <= 0 or at >= period_end:
        return 0
    if at <= period_start:
        return price_cents
    left = (period_end - at).total_seconds()
    return int(price_cents * left // length)
