"""How the parity suite judges two answers to one step: ids each side generated are compared
by the alias the script captured them under, instants by their shape, and a declared
exception holds only while each side answers exactly as declared."""

from __future__ import annotations

from typing import Any

import httpx
from strangler_gateway.comparison import CompareRules

from tests.support.parity import Expected, ParityException, ParityRules, Step

STEP = Step("get-the-invoice", "GET", "/api/billing/invoices/{invoice}", "ada")
RULES = ParityRules(CompareRules(("**/created_at",)), clocks=("**/issued_at", "**/paid_at"))


def _json(status: int, document: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=document, headers=headers)


def test_ids_each_side_generated_are_compared_by_their_alias_wherever_they_appear() -> None:
    legacy = _json(404, {"detail": "No invoice with id 'a1'.", "instance": "/invoices/a1/pay"})
    new = _json(404, {"detail": "No invoice with id 'b2'.", "instance": "/invoices/b2/pay"})

    outcome = RULES.judge(STEP, legacy, new, {"invoice": "a1"}, {"invoice": "b2"})

    assert outcome.differences == []


def test_an_id_captured_under_another_alias_is_a_difference() -> None:
    legacy = _json(409, {"subscription_id": "s-legacy"})
    new = _json(409, {"subscription_id": "s-other"})

    outcome = RULES.judge(
        STEP,
        legacy,
        new,
        {"subscription": "s-legacy"},
        {"subscription": "s-new", "old_subscription": "s-other"},
    )

    assert outcome.differences == ['/subscription_id: "{subscription}" != "{old_subscription}"']


def test_an_id_no_step_captured_is_a_difference() -> None:
    outcome = RULES.judge(STEP, _json(201, {"id": "p-1"}), _json(201, {"id": "p-2"}), {}, {})

    assert outcome.differences == ['/id: "p-1" != "p-2"']


def test_instants_are_compared_by_their_shape_so_null_against_a_time_still_differs() -> None:
    legacy = _json(200, {"issued_at": "2025-01-31T10:00:00Z", "paid_at": None})
    same_shape = _json(200, {"issued_at": "2025-01-31T10:00:07.5Z", "paid_at": None})
    paid_and_reformatted = _json(
        200, {"issued_at": "2025-01-31T10:00:07+00:00", "paid_at": "2025-01-31T10:00:08Z"}
    )

    assert RULES.judge(STEP, legacy, same_shape, {}, {}).differences == []
    assert RULES.judge(STEP, legacy, paid_and_reformatted, {}, {}).differences == [
        '/issued_at: "<instantZ>" != "<instant+00:00>"',
        '/paid_at: null != "<instantZ>"',
    ]


def test_the_route_rules_decide_which_headers_count() -> None:
    legacy = _json(201, {}, **{"Idempotent-Replayed": "true", "Date": "Mon"})
    new = _json(201, {}, Date="Tue")
    rules = ParityRules(CompareRules(headers=("content-type", "idempotent-replayed")))

    assert rules.judge(STEP, legacy, new, {}, {}).differences == [
        "header:idempotent-replayed: 'true' != None"
    ]


def test_a_declared_exception_holds_only_while_each_side_answers_as_declared() -> None:
    rules = ParityRules(
        CompareRules(),
        exceptions={
            STEP.name: ParityException(
                "billing cannot know", Expected(401, "unauthenticated"), Expected(200)
            )
        },
    )
    unauthenticated = _json(401, {"type": "https://strangler-fig.dev/problems/unauthenticated"})
    refused = _json(409, {"type": "https://strangler-fig.dev/problems/customer-unknown"})

    assert rules.judge(STEP, unauthenticated, _json(200, {"items": []}), {}, {}).differences == []
    assert rules.judge(STEP, unauthenticated, refused, {}, {}).differences == [
        "new: status 409, expected 200"
    ]


def test_a_failing_step_reports_its_field_differences_and_both_answers() -> None:
    outcome = RULES.judge(
        STEP, _json(200, {"status": "paid"}), _json(200, {"status": "open"}), {}, {}
    )

    report = outcome.report()

    assert "step 'get-the-invoice': GET /api/billing/invoices/{invoice}" in report
    assert '/status: "paid" != "open"' in report
    assert 'legacy answered 200: {"status": "paid"}' in report
    assert 'new answered 200: {"status": "open"}' in report
