"""Closing an account gives back the part of the paid period that was not used yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing_service.domain.periods import next_period_end, unused_part_cents

START = datetime(2026, 3, 1, tzinfo=UTC)
END = next_period_end(START)  # 31 days


def test_the_refund_is_the_price_in_proportion_to_the_time_left() -> None:
    assert unused_part_cents(3100, START, END, START + timedelta(days=10)) == 2100


def test_a_partial_cent_is_never_given_back() -> None:
    assert unused_part_cents(2900, START, END, START + timedelta(days=1)) == 2806  # 2806.45


def test_closing_before_the_period_starts_gives_back_everything() -> None:
    assert unused_part_cents(2900, START, END, START - timedelta(hours=1)) == 2900


def test_closing_after_the_period_ended_gives_back_nothing() -> None:
    assert unused_part_cents(2900, START, END, END) == 0
    assert unused_part_cents(2900, START, END, END + timedelta(days=3)) == 0
