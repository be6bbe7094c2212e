"""A catalogue of requests the monolith must refuse with a problem and no change at all.

Each case names a route, a bad body (or none) and the problem it must answer. It is sent
with a ``Subscriber``'s token; paths may mention ``{invoice_id}``, ``{subscription_id}`` (the
subscriber's) and ``{unknown_id}`` (a fresh UUID).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.monolith_api import GOOD_CARD, PASSWORD, Subscriber

__all__ = ["BAD_REQUESTS", "BODY_LIMIT", "BadRequest", "send"]

BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class BadRequest:
    method: str
    path: str
    status: int
    problem: str
    json: Any = None
    content: bytes | None = None
    streamed_bytes: int = 0
    pointers: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    body_of: Callable[[Subscriber], Any] | None = None


def _invalid(path: str, json: Any, *pointers: str, method: str = "POST") -> BadRequest:
    """A body the request schema refuses: 422 naming the offending members."""
    return BadRequest(method, path, 422, "validation-failed", json=json, pointers=pointers)


async def _chunks(total: int, size: int = 8192) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b" " * min(size, total - sent)
        sent += len(chunk)
        yield chunk


async def send(
    client: httpx.AsyncClient, case: BadRequest, subscriber: Subscriber
) -> httpx.Response:
    """Send ``case`` with the subscriber's token."""
    path = case.path.format(
        invoice_id=subscriber.invoice_id,
        subscription_id=subscriber.subscription_id,
        unknown_id=uuid.uuid4(),
    )
    headers = subscriber.customer.auth | case.headers
    content: Any = None
    if case.streamed_bytes:
        content = _chunks(case.streamed_bytes)
    elif case.content is not None:
        content = case.content
    if content is not None:
        headers |= {"Content-Type": "application/json"}
    json = case.body_of(subscriber) if case.body_of else case.json
    return await client.request(case.method, path, json=json, content=content, headers=headers)


def _register(**body: Any) -> dict[str, Any]:
    return {"email": "valid@example.com", "password": PASSWORD, "name": "Val Id"} | body


USERS = "/api/users"
LOGIN = "/api/auth/login"
PASSWORD_CHANGE = "/api/users/me/password"
SUBSCRIPTIONS = "/api/billing/subscriptions"
PAY = "/api/billing/invoices/{invoice_id}/pay"
REFUND = "/api/billing/invoices/{invoice_id}/refund"
PREFERENCES = "/api/notifications/preferences"
UNKNOWN_INVOICE = "/api/billing/invoices/{unknown_id}"
UNKNOWN_SUBSCRIPTION = "/api/billing/subscriptions/{unknown_id}"

BAD_REQUESTS: dict[str, BadRequest] = {
    # Not JSON at all.
    "register-malformed-json": BadRequest(
        "POST", USERS, 400, "malformed-json", content=b'{"email": "a@example.com",'
    ),
    "pay-malformed-json": BadRequest("POST", PAY, 400, "malformed-json", content=b"{card_number}"),
    # JSON the schemas refuse: wrong types (no coercion), extra or missing members, bad values.
    "register-email-is-a-number": _invalid(USERS, _register(email=5), "/email"),
    "register-password-is-a-number": _invalid(USERS, _register(password=12345678), "/password"),
    "register-extra-field": _invalid(USERS, _register(is_admin=True), "/is_admin"),
    "register-missing-name": _invalid(
        USERS, {"email": "valid@example.com", "password": PASSWORD}, "/name"
    ),
    "register-empty-object": _invalid(USERS, {}, "/email", "/password", "/name"),
    "register-body-is-a-list": _invalid(USERS, [_register()]),
    "register-invalid-email": _invalid(USERS, _register(email="not-an-email"), "/email"),
    "register-short-password": _invalid(USERS, _register(password="short"), "/password"),
    "login-password-is-a-number": _invalid(
        LOGIN, {"email": "a@example.com", "password": 12345678}, "/password"
    ),
    "change-password-too-short": _invalid(
        PASSWORD_CHANGE, {"current_password": PASSWORD, "new_password": "short"}, "/new_password"
    ),
    "subscribe-plan-id-is-a-number": _invalid(SUBSCRIPTIONS, {"plan_id": 3}, "/plan_id"),
    "subscribe-missing-plan-id": _invalid(SUBSCRIPTIONS, {}, "/plan_id"),
    "pay-card-number-is-a-number": _invalid(PAY, {"card_number": int(GOOD_CARD)}, "/card_number"),
    "pay-card-fails-luhn": _invalid(PAY, {"card_number": "4242424242424241"}, "/card_number"),
    "pay-card-too-short": _invalid(PAY, {"card_number": "4242"}, "/card_number"),
    "pay-extra-field": _invalid(
        PAY, {"card_number": GOOD_CARD, "amount_cents": 1}, "/amount_cents"
    ),
    "pay-idempotency-key-too-long": BadRequest(
        "POST",
        PAY,
        400,
        "idempotency-key-too-long",
        json={"card_number": GOOD_CARD},
        headers={"Idempotency-Key": "k" * 201},
    ),
    "refund-amount-is-a-string": _invalid(REFUND, {"amount_cents": "10"}, "/amount_cents"),
    "refund-amount-is-zero": _invalid(REFUND, {"amount_cents": 0}, "/amount_cents"),
    "preferences-flag-is-a-string": _invalid(
        PREFERENCES,
        {"account_emails": True, "billing_emails": "no"},
        "/billing_emails",
        method="PUT",
    ),
    "list-invoices-limit-zero": _invalid(
        "/api/billing/invoices?limit=0", None, "query:/limit", method="GET"
    ),
    "list-invoices-offset-past-64-bits": _invalid(
        "/api/billing/invoices?offset=99999999999999999999", None, "query:/offset", method="GET"
    ),
    # NUL cannot be stored in PostgreSQL text: refused at the door, wherever it hides.
    "register-name-with-nul": BadRequest(
        "POST", USERS, 400, "nul-character", json=_register(name="Ada\u0000Lovelace")
    ),
    "get-invoice-id-with-nul": BadRequest(
        "GET", "/api/billing/invoices/inv%00x", 400, "nul-character"
    ),
    "list-invoices-query-with-nul": BadRequest(
        "GET", "/api/billing/invoices?limit=1%00", 400, "nul-character"
    ),
    # Well-formed requests the business rules refuse.
    "register-duplicate-email-in-capitals": BadRequest(
        "POST",
        USERS,
        409,
        "duplicate-email",
        body_of=lambda subscriber: _register(email=subscriber.customer.email.upper()),
    ),
    "login-wrong-password": BadRequest(
        "POST",
        LOGIN,
        401,
        "invalid-credentials",
        body_of=lambda subscriber: {"email": subscriber.customer.email, "password": "wrong!"},
    ),
    "change-password-wrong-current": BadRequest(
        "POST",
        PASSWORD_CHANGE,
        403,
        "wrong-password",
        json={"current_password": "not-the-password", "new_password": "a-new-password"},
    ),
    "subscribe-unknown-plan": BadRequest(
        "POST",
        SUBSCRIPTIONS,
        422,
        "unknown-plan",
        json={"plan_id": "platinum"},
        pointers=("/plan_id",),
    ),
    "subscribe-while-subscribed": BadRequest(
        "POST", SUBSCRIPTIONS, 409, "already-subscribed", json={"plan_id": "starter"}
    ),
    "refund-unpaid-invoice": BadRequest("POST", REFUND, 409, "invoice-not-refundable", json={}),
    # Things that do not exist.
    "pay-unknown-invoice": BadRequest(
        "POST", f"{UNKNOWN_INVOICE}/pay", 404, "not-found", json={"card_number": GOOD_CARD}
    ),
    "get-unknown-invoice": BadRequest("GET", UNKNOWN_INVOICE, 404, "not-found"),
    "get-unknown-subscription": BadRequest("GET", UNKNOWN_SUBSCRIPTION, 404, "not-found"),
    "cancel-unknown-subscription": BadRequest(
        "POST", f"{UNKNOWN_SUBSCRIPTION}/cancel", 404, "not-found"
    ),
    "get-unknown-notification": BadRequest(
        "GET", "/api/notifications/{unknown_id}", 404, "not-found"
    ),
    "unknown-route": BadRequest("GET", "/api/nothing-here", 404, "not-found"),
    "wrong-method": BadRequest("PUT", "/api/users/me", 405, "method-not-allowed"),
    # Bodies over the limit, declared up front or streamed in chunks without a length.
    "register-oversize-with-content-length": BadRequest(
        "POST", USERS, 413, "payload-too-large", content=b" " * (BODY_LIMIT + 1)
    ),
    "register-oversize-streamed": BadRequest(
        "POST", USERS, 413, "payload-too-large", streamed_bytes=BODY_LIMIT + 1
    ),
    "pay-oversize-streamed": BadRequest(
        "POST", PAY, 413, "payload-too-large", streamed_bytes=4 * BODY_LIMIT
    ),
}
