"""The test-card catalogue: which card number makes the processor do what.

===================  ===================================================================
card number          outcome
===================  ===================================================================
4242424242424242     approved: 201, a ``succeeded`` charge
4000000000000002     declined: 402 ``card-declined``, ``decline_code: generic_decline``
4000000000009995     declined: 402 ``card-declined``, ``decline_code: insufficient_funds``
4000000000000077     hangs ``hang_seconds``, then 504 ``processor-timeout``; nothing recorded
4000000000005126     approved, but every refund of its charges is declined: 402
                     ``refund-declined`` (the ledger keeps a card's last four digits only,
                     so any card ending in 5126 does so)
any other valid      approved, like 4242424242424242
===================  ===================================================================

A number is valid when it has 12 to 19 digits (spaces are ignored) and passes the Luhn
check; anything else is refused as ``invalid-card-number`` before the processor sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APPROVED",
    "HANGS",
    "REFUNDS_DECLINED",
    "TEST_CARDS",
    "Approve",
    "CardBehaviour",
    "Decline",
    "Hang",
    "InvalidCardNumber",
    "behaviour_of",
    "declines_refunds",
    "luhn_valid",
    "parse_card_number",
]


@dataclass(frozen=True)
class Approve:
    pass


@dataclass(frozen=True)
class Decline:
    code: str


@dataclass(frozen=True)
class Hang:
    pass


CardBehaviour = Approve | Decline | Hang

APPROVED = "4242424242424242"
HANGS = "4000000000000077"
REFUNDS_DECLINED = "4000000000005126"

TEST_CARDS: dict[str, CardBehaviour] = {
    APPROVED: Approve(),
    "4000000000000002": Decline("generic_decline"),
    "4000000000009995": Decline("insufficient_funds"),
    HANGS: Hang(),
    REFUNDS_DECLINED: Approve(),
}


class InvalidCardNumber(ValueError):
    pass


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum: double every second digit from the right, the sum ends in 0."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def parse_card_number(raw: str) -> str:
    """The card number without spaces, or ``InvalidCardNumber``."""
    digits = raw.replace(" ", "")
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19):
        raise InvalidCardNumber("A card number has 12 to 19 digits.")
    if not luhn_valid(digits):
        raise InvalidCardNumber("The card number fails the Luhn check.")
    return digits


def behaviour_of(card_number: str) -> CardBehaviour:
    return TEST_CARDS.get(card_number, Approve())


def declines_refunds(card_last4: str) -> bool:
    """Whether the issuer of the card a charge was made with refuses to take money back."""
    return card_last4 == REFUNDS_DECLINED[-4:]
