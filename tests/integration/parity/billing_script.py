"""The request script both billing sides answer: happy paths and refusals, in one sequence.

``ada`` and ``bob`` are customers on both sides. Ids a side generates are captured from its
answers under an alias (``captures``) and used by later steps as ``{alias}``; ``{run}`` makes
idempotency keys unique to the run, ``{unknown}`` is an id neither side holds.
"""

from __future__ import annotations

from tests.support.monolith_api import DECLINED_CARD, GOOD_CARD
from tests.support.parity import Step

__all__ = ["BILLING_SCRIPT"]

INSUFFICIENT_FUNDS_CARD = "4000000000009995"
UNANSWERED_CARD = "4000000000000077"

PLANS = "/api/billing/plans"
SUBSCRIPTIONS = "/api/billing/subscriptions"
INVOICES = "/api/billing/invoices"
SUBSCRIPTION = SUBSCRIPTIONS + "/{subscription}"
INVOICE = INVOICES + "/{invoice}"
PAY = INVOICE + "/pay"
REFUND = INVOICE + "/refund"


def _key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": f"{name}-{{run}}"}


CATALOGUE = [
    Step("list-plans", "GET", PLANS),
    Step("list-plans-second-page", "GET", PLANS + "?limit=2&offset=2"),
    Step("list-plans-past-the-end", "GET", PLANS + "?offset=10"),
    Step("list-plans-with-limit-zero", "GET", PLANS + "?limit=0"),
    Step("list-plans-with-limit-over-the-maximum", "GET", PLANS + "?limit=101"),
    Step("list-plans-with-a-limit-that-is-not-a-number", "GET", PLANS + "?limit=ten"),
    Step("list-plans-with-a-negative-offset", "GET", PLANS + "?offset=-1"),
    Step("delete-the-plans", "DELETE", PLANS),
    Step("get-a-path-billing-does-not-have", "GET", "/api/billing/nothing-here"),
    Step("list-plans-with-a-trailing-slash", "GET", PLANS + "/"),
]

AUTHENTICATION = [
    Step("list-subscriptions-without-a-token", "GET", SUBSCRIPTIONS),
    Step("subscribe-without-a-token", "POST", SUBSCRIPTIONS, json={"plan_id": "pro"}),
    Step("list-invoices-with-a-malformed-token", "GET", INVOICES, caller="a-malformed-token"),
    Step("list-invoices-with-the-basic-scheme", "GET", INVOICES, caller="a-basic-scheme"),
    Step(
        "list-invoices-with-a-token-of-another-secret",
        "GET",
        INVOICES,
        caller="a-token-of-another-secret",
    ),
    Step("list-invoices-with-an-expired-token", "GET", INVOICES, caller="an-expired-token"),
    Step(
        "list-subscriptions-as-a-user-billing-never-heard-of",
        "GET",
        SUBSCRIPTIONS,
        caller="a-user-billing-never-heard-of",
    ),
    Step(
        "subscribe-as-a-user-billing-never-heard-of",
        "POST",
        SUBSCRIPTIONS,
        caller="a-user-billing-never-heard-of",
        json={"plan_id": "pro"},
    ),
    Step(
        "list-invoices-with-a-token-older-than-the-password",
        "GET",
        INVOICES,
        caller="a-token-older-than-the-password",
    ),
]

SUBSCRIBING = [
    Step("list-subscriptions-before-any", "GET", SUBSCRIPTIONS, caller="ada"),
    Step("list-invoices-before-any", "GET", INVOICES, caller="ada"),
    Step("subscribe-to-an-unknown-plan", "POST", SUBSCRIPTIONS, "ada", {"plan_id": "platinum"}),
    Step(
        "subscribe-with-malformed-json",
        "POST",
        SUBSCRIPTIONS,
        "ada",
        content=b'{"plan_id": "pro",',
    ),
    Step("subscribe-with-a-number-for-plan-id", "POST", SUBSCRIPTIONS, "ada", {"plan_id": 3}),
    Step("subscribe-without-plan-id", "POST", SUBSCRIPTIONS, "ada", {}),
    Step("subscribe-with-an-empty-plan-id", "POST", SUBSCRIPTIONS, "ada", {"plan_id": ""}),
    Step(
        "subscribe-with-an-extra-member",
        "POST",
        SUBSCRIPTIONS,
        "ada",
        {"plan_id": "pro", "price_cents": 1},
    ),
    Step("subscribe-with-a-list-for-a-body", "POST", SUBSCRIPTIONS, "ada", [{"plan_id": "pro"}]),
    Step(
        "subscribe-with-an-oversize-body",
        "POST",
        SUBSCRIPTIONS,
        "ada",
        content=b'{"plan_id": "pro", "padding": "' + b"x" * 70_000 + b'"}',
    ),
    Step("subscribe-with-a-plan-id-too-long", "POST", SUBSCRIPTIONS, "ada", {"plan_id": "p" * 41}),
    Step(
        "subscribe",
        "POST",
        SUBSCRIPTIONS,
        "ada",
        {"plan_id": "pro"},
        captures={"subscription": "/subscription/id", "invoice": "/invoice/id"},
    ),
    Step("subscribe-while-subscribed", "POST", SUBSCRIPTIONS, "ada", {"plan_id": "starter"}),
    Step(
        "another-customer-subscribes",
        "POST",
        SUBSCRIPTIONS,
        "bob",
        {"plan_id": "starter"},
        captures={"bobs_subscription": "/subscription/id", "bobs_invoice": "/invoice/id"},
    ),
]

READING = [
    Step("get-the-subscription", "GET", SUBSCRIPTION, "ada"),
    Step("get-an-unknown-subscription", "GET", SUBSCRIPTIONS + "/{unknown}", "ada"),
    Step(
        "get-another-customers-subscription", "GET", SUBSCRIPTIONS + "/{bobs_subscription}", "ada"
    ),
    Step("list-subscriptions", "GET", SUBSCRIPTIONS, "ada"),
    Step("list-subscriptions-with-limit-zero", "GET", SUBSCRIPTIONS + "?limit=0", "ada"),
    Step("get-the-invoice", "GET", INVOICE, "ada"),
    Step("get-an-unknown-invoice", "GET", INVOICES + "/{unknown}", "ada"),
    Step("get-another-customers-invoice", "GET", INVOICES + "/{bobs_invoice}", "ada"),
    Step("get-an-invoice-by-an-id-no-record-can-have", "GET", INVOICES + "/" + "x" * 300, "ada"),
    Step("list-invoices", "GET", INVOICES, "ada"),
    Step("list-invoices-with-a-negative-offset", "GET", INVOICES + "?offset=-1", "ada"),
]

PAYING = [
    Step("pay-with-malformed-json", "POST", PAY, "ada", content=b"{card_number}"),
    Step("pay-without-a-card", "POST", PAY, "ada", {}),
    Step("pay-with-a-number-for-a-card", "POST", PAY, "ada", {"card_number": int(GOOD_CARD)}),
    Step("pay-with-a-card-failing-luhn", "POST", PAY, "ada", {"card_number": "4242424242424241"}),
    Step(
        "pay-with-an-idempotency-key-too-long",
        "POST",
        PAY,
        "ada",
        {"card_number": GOOD_CARD},
        headers={"Idempotency-Key": "k" * 256},
    ),
    Step(
        "pay-an-unknown-invoice",
        "POST",
        INVOICES + "/{unknown}/pay",
        "ada",
        {"card_number": GOOD_CARD},
    ),
    Step(
        "pay-another-customers-invoice",
        "POST",
        INVOICES + "/{bobs_invoice}/pay",
        "ada",
        {"card_number": GOOD_CARD},
        headers=_key("pay-bobs"),
    ),
    Step(
        "pay-with-a-declined-card",
        "POST",
        PAY,
        "ada",
        {"card_number": DECLINED_CARD},
        headers=_key("pay-declined"),
        captures={"declined_payment": "/payment_id"},
    ),
    Step(
        "pay-again-with-the-declined-attempts-key",
        "POST",
        PAY,
        "ada",
        {"card_number": DECLINED_CARD},
        headers=_key("pay-declined"),
    ),
    Step(
        "pay-with-a-card-without-funds",
        "POST",
        PAY,
        "ada",
        {"card_number": INSUFFICIENT_FUNDS_CARD},
        headers=_key("pay-no-funds"),
        captures={"unfunded_payment": "/payment_id"},
    ),
    Step("the-invoice-is-open-after-declines", "GET", INVOICE, "ada"),
    Step("refund-an-unpaid-invoice", "POST", REFUND, "ada", {}, headers=_key("refund-unpaid")),
    Step(
        "pay",
        "POST",
        PAY,
        "ada",
        {"card_number": GOOD_CARD},
        headers=_key("pay"),
        captures={"payment": "/payment/id", "charge": "/payment/provider_charge_id"},
    ),
    Step(
        "pay-again-with-the-same-key",
        "POST",
        PAY,
        "ada",
        {"card_number": GOOD_CARD},
        headers=_key("pay"),
    ),
    Step(
        "pay-again-with-the-same-key-and-another-card",
        "POST",
        PAY,
        "ada",
        {"card_number": DECLINED_CARD},
        headers=_key("pay"),
    ),
    Step(
        "pay-the-paid-invoice-with-a-new-key",
        "POST",
        PAY,
        "ada",
        {"card_number": GOOD_CARD},
        headers=_key("pay-twice"),
    ),
    Step("the-invoice-is-paid", "GET", INVOICE, "ada"),
]

REFUNDING = [
    Step("refund-with-malformed-json", "POST", REFUND, "ada", content=b"{amount_cents: 1}"),
    Step("refund-zero", "POST", REFUND, "ada", {"amount_cents": 0}),
    Step("refund-with-a-string-amount", "POST", REFUND, "ada", {"amount_cents": "100"}),
    Step("refund-with-a-reason-too-long", "POST", REFUND, "ada", {"reason": "r" * 501}),
    Step("refund-an-unknown-invoice", "POST", INVOICES + "/{unknown}/refund", "ada", {}),
    Step(
        "refund-part",
        "POST",
        REFUND,
        "ada",
        {"amount_cents": 900, "reason": "goodwill"},
        headers=_key("refund-part"),
        captures={"partial_refund": "/refund/id"},
    ),
    Step(
        "refund-part-again-with-the-same-key",
        "POST",
        REFUND,
        "ada",
        {"amount_cents": 900, "reason": "goodwill"},
        headers=_key("refund-part"),
    ),
    Step(
        "refund-more-than-remains",
        "POST",
        REFUND,
        "ada",
        {"amount_cents": 2001},
        headers=_key("refund-too-much"),
    ),
    Step(
        "refund-the-rest",
        "POST",
        REFUND,
        "ada",
        {},
        headers=_key("refund-rest"),
        captures={"final_refund": "/refund/id"},
    ),
    Step("refund-a-refunded-invoice", "POST", REFUND, "ada", {}, headers=_key("refund-again")),
    Step(
        "pay-a-refunded-invoice",
        "POST",
        PAY,
        "ada",
        {"card_number": GOOD_CARD},
        headers=_key("pay-refunded"),
    ),
    Step("the-invoice-is-refunded", "GET", INVOICE, "ada"),
    Step(
        "pay-again-with-the-first-key-after-the-refunds",
        "POST",
        PAY,
        "ada",
        {"card_number": GOOD_CARD},
        headers=_key("pay"),
    ),
    Step(
        "refund-another-customers-invoice",
        "POST",
        INVOICES + "/{bobs_invoice}/refund",
        "ada",
        {},
        headers=_key("refund-bobs"),
    ),
]

RESUMING = [
    Step(
        "pay-with-a-card-the-network-never-answers",
        "POST",
        INVOICES + "/{bobs_invoice}/pay",
        "bob",
        {"card_number": UNANSWERED_CARD},
        headers=_key("pay-unanswered"),
        captures={"unanswered_payment": "/payment_id"},
    ),
    Step("the-unanswered-invoice-is-open", "GET", INVOICES + "/{bobs_invoice}", "bob"),
    Step(
        "pay-again-with-the-unanswered-attempts-key",
        "POST",
        INVOICES + "/{bobs_invoice}/pay",
        "bob",
        {"card_number": "4242 4242 4242 4242"},
        headers=_key("pay-unanswered"),
        captures={"bobs_charge": "/payment/provider_charge_id"},
    ),
    Step(
        "pay-with-an-empty-idempotency-key",
        "POST",
        INVOICES + "/{bobs_invoice}/pay",
        "bob",
        {"card_number": GOOD_CARD},
        headers={"Idempotency-Key": ""},
    ),
]

CANCELLING = [
    Step(
        "cancel-another-customers-subscription",
        "POST",
        SUBSCRIPTIONS + "/{bobs_subscription}/cancel",
        "ada",
    ),
    Step("cancel-an-unknown-subscription", "POST", SUBSCRIPTIONS + "/{unknown}/cancel", "ada"),
    Step("cancel", "POST", SUBSCRIPTION + "/cancel", "ada"),
    Step("cancel-again", "POST", SUBSCRIPTION + "/cancel", "ada"),
    Step("the-subscription-is-cancelled", "GET", SUBSCRIPTION, "ada"),
    Step(
        "subscribe-again-after-cancelling",
        "POST",
        SUBSCRIPTIONS,
        "ada",
        {"plan_id": "business"},
        captures={"second_subscription": "/subscription/id", "second_invoice": "/invoice/id"},
    ),
    Step(
        "pay-the-new-invoice-with-the-first-invoices-key",
        "POST",
        INVOICES + "/{second_invoice}/pay",
        "ada",
        {"card_number": GOOD_CARD},
        headers=_key("pay"),
    ),
    Step(
        "cancel-the-second-subscription",
        "POST",
        SUBSCRIPTIONS + "/{second_subscription}/cancel",
        "ada",
    ),
    Step("the-unpaid-invoice-is-void", "GET", INVOICES + "/{second_invoice}", "ada"),
    Step(
        "pay-a-void-invoice",
        "POST",
        INVOICES + "/{second_invoice}/pay",
        "ada",
        {"card_number": GOOD_CARD},
        headers=_key("pay-void"),
    ),
    Step("refund-a-void-invoice", "POST", INVOICES + "/{second_invoice}/refund", "ada", {}),
    Step("list-subscriptions-newest-first", "GET", SUBSCRIPTIONS, "ada"),
    Step("list-subscriptions-one-per-page", "GET", SUBSCRIPTIONS + "?limit=1", "ada"),
    Step("list-subscriptions-second-page", "GET", SUBSCRIPTIONS + "?limit=1&offset=1", "ada"),
    Step("list-invoices-newest-first", "GET", INVOICES, "ada"),
    Step("list-the-other-customers-invoices", "GET", INVOICES, "bob"),
]

BILLING_SCRIPT: list[Step] = [
    *CATALOGUE,
    *AUTHENTICATION,
    *SUBSCRIBING,
    *READING,
    *PAYING,
    *REFUNDING,
    *RESUMING,
    *CANCELLING,
]
