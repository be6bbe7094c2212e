"""The card-payment provider as billing needs it: charge and refund, each under a key.

The provider applies a key once: a retried charge or refund under the same key answers the
first outcome and moves no money again. Outcomes the caller must handle are exceptions
named by condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "CardDeclined",
    "Charge",
    "ChargeInFlight",
    "PaymentProvider",
    "ProcessorTimedOut",
    "ProviderRejected",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RefundReceipt",
]


@dataclass(frozen=True)
class Charge:
    charge_id: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class RefundReceipt:
    refund_id: str
    amount_cents: int


class CardDeclined(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProviderTimeout(Exception):
    """No answer in time: the charge may or may not have happened."""


class ProcessorTimedOut(ProviderTimeout):
    """The provider answered that its card network timed out: it recorded no charge under the
    key, and a request under the same key may try again."""


class ChargeInFlight(ProviderTimeout):
    """Another request holds the key at the provider — it is still running, or it was made
    with another card — so that request decides this payment's outcome, not this one."""


class ProviderUnavailable(Exception):
    """The provider could not be reached, or failed: nothing happened."""


class ProviderRejected(Exception):
    """The provider refused the request itself (unknown charge, over-refund, ...)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class PaymentProvider(Protocol):
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
        """``timeout_seconds`` replaces the client's own for this call."""
        ...

    async def refund(self, *, charge_id: str, amount_cents: int, key: str) -> RefundReceipt: ...

    async def aclose(self) -> None: ...
