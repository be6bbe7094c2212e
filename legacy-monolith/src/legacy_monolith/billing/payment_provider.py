"""The monolith's client for the external card-payment provider (the payment simulator).

Every call carries an idempotency key, so a retried charge or refund is never applied twice
by the provider. Outcomes the caller must handle are exceptions named by condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

__all__ = [
    "AttemptTakenElsewhere",
    "CardDeclined",
    "Charge",
    "HttpPaymentProvider",
    "PaymentProvider",
    "PaymentProviderError",
    "ProviderRejected",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RefundReceipt",
]


@dataclass(frozen=True)
class Charge:
    charge_id: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class RefundReceipt:
    refund_id: str
    amount_cents: int


class PaymentProviderError(Exception):
    pass


class CardDeclined(PaymentProviderError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProviderTimeout(PaymentProviderError):
    pass


class ProviderUnavailable(PaymentProviderError):
    pass


class AttemptTakenElsewhere(PaymentProviderError):
    """Another request holds the key at the provider: it is still running, or it was made
    with another card. Either way that request decides this attempt; nothing was charged by
    this one."""


class ProviderRejected(PaymentProviderError):
    """The provider refused the request itself (unknown charge, over-refund, ...)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class PaymentProvider(Protocol):
    async def charge(
        self, *, amount_cents: int, currency: str, card_number: str, description: str, key: str
    ) -> Charge: ...

    async def refund(self, *, charge_id: str, amount_cents: int, key: str) -> RefundReceipt: ...

    async def aclose(self) -> None: ...


class HttpPaymentProvider:
    def __init__(
        self,
        base_url: str,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 3.0)),
            transport=transport,
        )

    async def charge(
        self, *, amount_cents: int, currency: str, card_number: str, description: str, key: str
    ) -> Charge:
        body = await self._post(
            "/v1/charges",
            {
                "amount": amount_cents,
                "currency": currency,
                "card_number": card_number,
                "description": description,
            },
            key,
        )
        return Charge(charge_id=body["id"], amount_cents=body["amount"], currency=body["currency"])

    async def refund(self, *, charge_id: str, amount_cents: int, key: str) -> RefundReceipt:
        body = await self._post(
            "/v1/refunds", {"charge_id": charge_id, "amount": amount_cents}, key
        )
        return RefundReceipt(refund_id=body["id"], amount_cents=body["amount"])

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
        try:
            response = await self._client.post(path, json=payload, headers={"Idempotency-Key": key})
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"no answer from the payment provider: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"payment provider unreachable: {exc!r}") from exc
        if response.status_code in (200, 201):
            result: dict[str, Any] = response.json()
            return result
        problem = _problem_of(response)
        if response.status_code == 402:
            raise CardDeclined(
                str(problem.get("decline_code", "card_declined")),
                str(problem.get("detail") or problem.get("title") or "card declined"),
            )
        if _problem_slug(problem) in _KEY_HELD_ELSEWHERE:
            raise AttemptTakenElsewhere(str(problem.get("detail") or "idempotency key in use"))
        if response.status_code == 504:
            raise ProviderTimeout(str(problem.get("detail") or "the processor timed out"))
        if response.status_code >= 500:
            raise ProviderUnavailable(f"payment provider answered {response.status_code}")
        raise ProviderRejected(
            response.status_code,
            str(problem.get("detail") or problem.get("title") or response.reason_phrase),
        )


_KEY_HELD_ELSEWHERE = frozenset({"idempotency-key-in-use", "idempotency-key-reused"})


def _problem_slug(problem: dict[str, Any]) -> str:
    return str(problem.get("type", "")).rsplit("/", 1)[-1]


def _problem_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
