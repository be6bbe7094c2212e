"""Which condition answers which problem document, mapped once for the whole app."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import FastAPI, Request
from http_platform import Problem, ProblemResponse

from payment_simulator.cards import InvalidCardNumber
from payment_simulator.idempotency import IdempotencyKeyInUse, IdempotencyKeyReused
from payment_simulator.ledger import ChargeNotFound, ChargeNotRefundable, RefundExceedsCharge
from payment_simulator.processor import ProcessorTimeout, RefundDeclined

__all__ = ["card_declined", "install_payment_problems"]

E = TypeVar("E", bound=Exception)


def card_declined(charge_id: str, decline_code: str) -> Problem:
    return Problem(
        402,
        "card-declined",
        "Card declined",
        "The card was declined; no money moved.",
        decline_code=decline_code,
        charge_id=charge_id,
    )


def _invalid_card_number(exc: InvalidCardNumber) -> Problem:
    return Problem(422, "invalid-card-number", "Invalid card number", str(exc))


def _processor_timeout(exc: ProcessorTimeout) -> Problem:
    return Problem(
        504,
        "processor-timeout",
        "Processor timeout",
        "The card network did not answer; no charge was made, so retrying is safe.",
    )


def _charge_not_found(exc: ChargeNotFound) -> Problem:
    return Problem(404, "charge-not-found", "Charge not found", str(exc), charge_id=exc.charge_id)


def _charge_not_refundable(exc: ChargeNotRefundable) -> Problem:
    return Problem(
        409, "charge-not-refundable", "Charge not refundable", str(exc), charge_id=exc.charge.id
    )


def _refund_declined(exc: RefundDeclined) -> Problem:
    return Problem(402, "refund-declined", "Refund declined", str(exc), charge_id=exc.charge.id)


def _refund_exceeds_charge(exc: RefundExceedsCharge) -> Problem:
    return Problem(
        422,
        "refund-exceeds-charge",
        "Refund exceeds charge",
        str(exc),
        charge_id=exc.charge.id,
        amount_refundable=exc.charge.refundable,
    )


def _key_in_use(exc: IdempotencyKeyInUse) -> Problem:
    return Problem(409, "idempotency-key-in-use", "Idempotency key in use", str(exc))


def _key_reused(exc: IdempotencyKeyReused) -> Problem:
    return Problem(422, "idempotency-key-reused", "Idempotency key reused", str(exc))


def install_payment_problems(app: FastAPI) -> None:
    """Answer each payment condition with its problem document."""
    _map(app, InvalidCardNumber, _invalid_card_number)
    _map(app, ProcessorTimeout, _processor_timeout)
    _map(app, ChargeNotFound, _charge_not_found)
    _map(app, ChargeNotRefundable, _charge_not_refundable)
    _map(app, RefundExceedsCharge, _refund_exceeds_charge)
    _map(app, RefundDeclined, _refund_declined)
    _map(app, IdempotencyKeyInUse, _key_in_use)
    _map(app, IdempotencyKeyReused, _key_reused)


def _map(app: FastAPI, condition: type[E], to_problem: Callable[[E], Problem]) -> None:
    async def handle(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, condition)
        return to_problem(exc).to_response(request.url.path)

    app.add_exception_handler(condition, handle)
