"""Reconciliation checks business rules on each side's records, not only that both agree."""

from __future__ import annotations

from typing import Any

from strangler_migration import AtMostOne, ExportedRecord, TotalWithin, Violation, violations

ONE_SUCCESSFUL_PAYMENT = AtMostOne(
    "at most one successful payment per invoice",
    "payments",
    per="invoice_id",
    where={"status": "succeeded"},
)
REFUNDS_WITHIN_PAYMENT = TotalWithin(
    "refunds never above the amount paid",
    "refunds",
    total="amount_cents",
    per="invoice_id",
    limit_entity="payments",
    limit="amount_cents",
    limit_per="invoice_id",
    limit_where={"status": "succeeded"},
)
RULES = (ONE_SUCCESSFUL_PAYMENT, REFUNDS_WITHIN_PAYMENT)


def _record(record_id: str, **data: Any) -> ExportedRecord:
    return ExportedRecord(id=record_id, version=1, origin="billing", data=data)


def _payment(record_id: str, invoice_id: str, status: str, amount: int = 2900) -> ExportedRecord:
    return _record(record_id, invoice_id=invoice_id, status=status, amount_cents=amount)


def _refund(record_id: str, invoice_id: str, amount: int) -> ExportedRecord:
    return _record(record_id, invoice_id=invoice_id, amount_cents=amount)


def test_records_that_keep_every_rule_have_no_violation() -> None:
    records = {
        "payments": [
            _payment("p1", "inv-1", "failed"),
            _payment("p2", "inv-1", "succeeded"),
            _payment("p3", "inv-2", "succeeded"),
        ],
        "refunds": [_refund("r1", "inv-1", 900), _refund("r2", "inv-1", 2000)],
    }

    assert violations(RULES, records) == []


def test_an_invoice_with_two_successful_payments_is_named_with_both() -> None:
    records = {
        "payments": [_payment("p2", "inv-1", "succeeded"), _payment("p1", "inv-1", "succeeded")]
    }

    assert violations(RULES, records) == [
        Violation(
            "at most one successful payment per invoice", "payments", "inv-1", "2 payments: p1, p2"
        )
    ]


def test_refunds_above_what_was_paid_break_the_rule_even_without_any_payment() -> None:
    records = {
        "payments": [_payment("p1", "inv-1", "succeeded", 2900), _payment("p2", "inv-2", "failed")],
        "refunds": [
            _refund("r1", "inv-1", 2000),
            _refund("r2", "inv-1", 1000),
            _refund("r3", "inv-2", 1),
        ],
    }

    assert violations(RULES, records) == [
        Violation(
            "refunds never above the amount paid",
            "refunds",
            "inv-1",
            "amount_cents 3000 > 2900 (r1, r2)",
        ),
        Violation(
            "refunds never above the amount paid", "refunds", "inv-2", "amount_cents 1 > 0 (r3)"
        ),
    ]
