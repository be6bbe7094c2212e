"""Monthly billing periods: the same day next month, clamped to the month's last day."""

from __future__ import annotations

import calendar
from datetime import datetime

__all__ = ["next_period_end"]


def next_period_end(start: datetime) -> datetime:
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(
        year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1])
    )
