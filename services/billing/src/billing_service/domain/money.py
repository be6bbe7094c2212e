"""Amounts are whole cents in a currency; this is how people read them."""

from __future__ import annotations

__all__ = ["format_money"]


def format_money(cents: int, currency: str) -> str:
    return f"{cents / 100:.2f} {currency.upper()}"
