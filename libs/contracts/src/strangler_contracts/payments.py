"""Which payment of an invoice an attempt is — the same answer on both sides of the seam.

While the monolith and the billing service both serve billing, one invoice can be paid on
both at the same moment, with different ``Idempotency-Key``s. Neither side's own lock sees
the other's, so the provider must: both sides name the attempt by the invoice, not by the
caller. An invoice's *n*-th attempt is the payment ``payment_attempt_id(invoice_id, n)``,
and the provider is asked under that payment's key, so two sides charging invoice X in the
same attempt send the provider the same key, and it charges once (the second request gets
the first answer back, or is refused while the first runs).

*n* is one more than the attempts the provider *declined* (``counts_as_declined``): a
declined attempt is settled at the provider under its key, so a new card needs a new key. A
side that has not heard of a decline yet asks under the declined key and gets the decline
back — it can never reach a key the other side charged under, because that key's number is
at most one past the declines, which both sides eventually know. A request the provider
refused without recording anything (``REJECTED_BY_PROVIDER``) leaves the key free, so it
does not move to a new attempt.
"""

from __future__ import annotations

import uuid
from typing import Final

__all__ = [
    "REJECTED_BY_PROVIDER",
    "counts_as_declined",
    "next_attempt",
    "payment_attempt_id",
]

REJECTED_BY_PROVIDER: Final = "rejected_by_provider"
"""The failure code of a payment the provider refused without recording a charge."""

_PAYMENT_ATTEMPTS: Final = uuid.UUID("0b9a3f4e-5d1c-4c7e-9a51-3f0e6c2d8b17")


def payment_attempt_id(invoice_id: str, attempt: int) -> str:
    """The id of the ``attempt``-th payment of the invoice (from 1), on either side."""
    if attempt < 1:
        raise ValueError(f"attempts count from 1, not {attempt}")
    return str(uuid.uuid5(_PAYMENT_ATTEMPTS, f"{invoice_id}/{attempt}"))


def counts_as_declined(status: str, failure_code: str | None) -> bool:
    """Whether a payment is an attempt the provider declined (and so settled for good)."""
    return status == "failed" and failure_code != REJECTED_BY_PROVIDER


def next_attempt(declined_attempts: int) -> int:
    """The attempt a new payment of an invoice is, after that many declined ones."""
    return declined_attempts + 1
