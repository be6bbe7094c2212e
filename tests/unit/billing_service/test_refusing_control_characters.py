"""Billing's text fields are one printable line, as the monolith's are: a line break or a
control character in a plan id or a refund reason is refused where it enters."""

from __future__ import annotations

from typing import Any

import pytest
from billing_service.entrypoints.checkout import CheckoutRequest
from billing_service.entrypoints.schemas import RefundInvoiceRequest, SubscribeRequest
from pydantic import BaseModel, ValidationError

CARD = "4242424242424242"


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\u2028", "\u0085", "\x1b", "\u200f"])
@pytest.mark.parametrize(
    ("request_type", "body", "field"),
    [
        (SubscribeRequest, {"plan_id": "pro{}x"}, "plan_id"),
        (CheckoutRequest, {"plan_id": "pro{}x", "card_number": CARD}, "plan_id"),
        (RefundInvoiceRequest, {"reason": "duplicate{}X-Injected: yes"}, "reason"),
    ],
)
def test_a_text_field_with_a_line_break_is_refused_naming_it(
    request_type: type[BaseModel], body: dict[str, Any], field: str, line_break: str
) -> None:
    dirty = {name: value.replace("{}", line_break) for name, value in body.items()}

    with pytest.raises(ValidationError) as refused:
        request_type.model_validate(dirty)

    assert [error["loc"] for error in refused.value.errors()] == [(field,)]


def test_one_printable_line_is_accepted() -> None:
    assert RefundInvoiceRequest.model_validate(
        {"reason": "Doppelt bezahlt, bitte erstatten (Grüße)"}
    )
