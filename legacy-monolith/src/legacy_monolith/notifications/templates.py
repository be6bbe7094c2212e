"""What each kind of e-mail says, and which preference category allows it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from http_platform.edge_input import one_line

__all__ = ["Category", "Template", "render"]


class Category(StrEnum):
    ACCOUNT = "account"
    BILLING = "billing"


@dataclass(frozen=True)
class Template:
    category: Category
    subject: str
    body: str


_TEMPLATES: dict[str, Template] = {
    "welcome": Template(
        Category.ACCOUNT,
        "Welcome to Strangler Fig, {name}",
        "Hello {name},\n\nyour account {email} is ready. Log in and pick a plan.\n",
    ),
    "password_changed": Template(
        Category.ACCOUNT,
        "Your password was changed",
        "Hello {name},\n\nthe password of {email} was just changed. "
        "If this was not you, contact support.\n",
    ),
    "invoice_issued": Template(
        Category.BILLING,
        "Invoice for {plan_name}: {amount}",
        "Hello {name},\n\ninvoice {invoice_id} for {plan_name} ({period}) is due: {amount}.\n",
    ),
    "payment_succeeded": Template(
        Category.BILLING,
        "Payment received: {amount}",
        "Hello {name},\n\nwe received {amount} for invoice {invoice_id}. Thank you.\n",
    ),
    "payment_failed": Template(
        Category.BILLING,
        "Payment failed for invoice {invoice_id}",
        "Hello {name},\n\nthe payment of {amount} for invoice {invoice_id} failed: {reason}.\n"
        "Please try another card.\n",
    ),
    "refund_issued": Template(
        Category.BILLING,
        "Refund issued: {amount}",
        "Hello {name},\n\nwe refunded {amount} for invoice {invoice_id}.\n",
    ),
}


def render(kind: str, **values: Any) -> tuple[Category, str, str]:
    """The mail's category, subject (one printable line, whatever the values hold) and body."""
    template = _TEMPLATES[kind]
    subject = one_line(template.subject.format(**values))
    return template.category, subject, template.body.format(**values)
