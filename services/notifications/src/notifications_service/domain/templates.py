"""What each kind of e-mail says, and which preference category allows it: data.

The catalogue is the monolith's, word for word, so a mail reads the same whichever side
sent it. Each template names the values it needs (``placeholders``) and carries sample
values, so it can be previewed without a user or an event (``GET
/api/notifications/templates/{name}/preview``).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = ["SERVICE_ONLY", "TEMPLATES", "Category", "Template", "template_named"]


class Category(StrEnum):
    ACCOUNT = "account"
    BILLING = "billing"


@dataclass(frozen=True)
class Template:
    name: str
    category: Category
    subject: str
    body: str
    samples: Mapping[str, str] = field(default_factory=dict)

    @property
    def placeholders(self) -> list[str]:
        """The values the subject and body use, in order of first use."""
        names: list[str] = []
        for text in (self.subject, self.body):
            for _, name, _, _ in string.Formatter().parse(text):
                if name and name not in names:
                    names.append(name)
        return names

    def fill(self, values: Mapping[str, object]) -> tuple[str, str]:
        """The subject (not yet flattened to one line) and the body; KeyError names a value
        missing."""
        return self.subject.format_map(values), self.body.format_map(values)


_PERSON = {"name": "Ada", "email": "ada@example.com"}
_INVOICE = {"invoice_id": "3f1c9a52-8c1e-4f0e-9a6e-2b7d5c4e1a90", "amount": "29.00 EUR"}

_CATALOGUE = (
    Template(
        "welcome",
        Category.ACCOUNT,
        "Welcome to Strangler Fig, {name}",
        "Hello {name},\n\nyour account {email} is ready. Log in and pick a plan.\n",
        _PERSON,
    ),
    Template(
        "password_changed",
        Category.ACCOUNT,
        "Your password was changed",
        "Hello {name},\n\nthe password of {email} was just changed. "
        "If this was not you, contact support.\n",
        _PERSON,
    ),
    Template(
        "invoice_issued",
        Category.BILLING,
        "Invoice for {plan_name}: {amount}",
        "Hello {name},\n\ninvoice {invoice_id} for {plan_name} ({period}) is due: {amount}.\n",
        {**_PERSON, **_INVOICE, "plan_name": "Pro", "period": "2026-12-01 to 2026-12-31"},
    ),
    Template(
        "payment_succeeded",
        Category.BILLING,
        "Payment received: {amount}",
        "Hello {name},\n\nwe received {amount} for invoice {invoice_id}. Thank you.\n",
        {**_PERSON, **_INVOICE},
    ),
    Template(
        "payment_failed",
        Category.BILLING,
        "Payment failed for invoice {invoice_id}",
        "Hello {name},\n\nthe payment of {amount} for invoice {invoice_id} failed: {reason}.\n"
        "Please try another card.\n",
        {**_PERSON, **_INVOICE, "reason": "Your card was declined."},
    ),
    Template(
        "refund_issued",
        Category.BILLING,
        "Refund issued: {amount}",
        "Hello {name},\n\nwe refunded {amount} for invoice {invoice_id}.\n",
        {**_PERSON, **_INVOICE},
    ),
)

_CLOSING_AN_ACCOUNT = (
    Template(
        "farewell",
        Category.ACCOUNT,
        "Your account is closed, {name}",
        "Hello {name},\n\nyour account {email} is closed, as you asked. {refund}\n"
        "We erase what we held about you now: this is the last mail you get from us.\n",
        {**_PERSON, "refund": "We refunded 14.50 EUR for the unused part of your plan."},
    ),
    Template(
        "account_closure_paused",
        Category.ACCOUNT,
        "Closing your account is paused",
        "Hello {name},\n\nwe could not refund {amount} for the unused part of your plan: "
        "{reason}\nYour subscription is cancelled; your account {email} stays open until the "
        "refund is settled. Please contact support.\n",
        {
            **_PERSON,
            "amount": "14.50 EUR",
            "reason": "The issuer of the card declined the refund.",
        },
    ),
)

SERVICE_ONLY: Final = frozenset(template.name for template in _CLOSING_AN_ACCOUNT)
"""Mails of a flow the monolith never had (closing an account): only this service sends them."""

TEMPLATES: Final[Mapping[str, Template]] = MappingProxyType(
    {t.name: t for t in (*_CATALOGUE, *_CLOSING_AN_ACCOUNT)}
)


def template_named(name: str) -> Template | None:
    return TEMPLATES.get(name)
