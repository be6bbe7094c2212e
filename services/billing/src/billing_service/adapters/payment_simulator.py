"""The payment provider over HTTP: the payment simulator's ``/v1/charges`` and ``/v1/refunds``.

Every request carries the ``Idempotency-Key`` the service layer chose, so a retried charge
or refund is applied once by the provider. Its answers become the service layer's outcomes:
402 a declined card, 504 or no answer in time a timeout, other 5xx or no connection an
unavailable provider, any other refusal a rejection. Two answers are told apart from a
plain timeout because they say more: the provider's own 504 (its card network timed out and
it recorded nothing), and 409 ``idempotency-key-in-use`` or 422 ``idempotency-key-reused``
(another request under the same key — still running, or made with another card — decides
the payment).
"""

from __future__ import annotations

from typing import Any

import httpx

from billing_service.service_layer.payment_provider import (
    CardDeclined,
    Charge,
    ChargeInFlight,
    ProcessorTimedOut,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RefundReceipt,
)

__all__ = ["PaymentSimulatorClient"]

CONNECT_TIMEOUT_SECONDS = 3.0


class PaymentSimulatorClient:
    """One pooled client for the process; ``transport=`` lets tests reach an in-process app."""

    def __init__(
        self,
        base_url: str,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        timeout = httpx.Timeout(
            timeout_seconds, connect=min(timeout_seconds, CONNECT_TIMEOUT_SECONDS)
        )
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def charge(
        self,
        *,
        amount_cents: int,
        currency: str,
        card_number: str,
        description: str,
        key: str,
        timeout_seconds: float | None = None,
    ) -> Charge:
        answer = await self._send(
            "/v1/charges",
            key,
            timeout_seconds,
            amount=amount_cents,
            currency=currency,
            card_number=card_number,
            description=description,
        )
        return Charge(answer["id"], answer["amount"], answer["currency"])

    async def refund(self, *, charge_id: str, amount_cents: int, key: str) -> RefundReceipt:
        answer = await self._send(
            "/v1/refunds", key, None, charge_id=charge_id, amount=amount_cents
        )
        return RefundReceipt(answer["id"], answer["amount"])

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(
        self, path: str, key: str, timeout_seconds: float | None, **body: Any
    ) -> dict[str, Any]:
        timeout = (
            httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, CONNECT_TIMEOUT_SECONDS))
            if timeout_seconds is not None
            else httpx.USE_CLIENT_DEFAULT
        )
        try:
            response = await self._http.post(
                path, json=body, headers={"Idempotency-Key": key}, timeout=timeout
            )
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"no answer from the payment provider: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"payment provider unreachable: {exc!r}") from exc
        if response.is_success:
            answer: dict[str, Any] = response.json()
            return answer
        raise _refusal(response)


_KEY_HELD_ELSEWHERE = frozenset({"idempotency-key-in-use", "idempotency-key-reused"})


def _refusal(response: httpx.Response) -> Exception:
    problem = _json_object(response)
    detail = str(problem.get("detail") or problem.get("title") or response.reason_phrase)
    if response.status_code == 402:
        return CardDeclined(str(problem.get("decline_code", "card_declined")), detail)
    if response.status_code == 504:
        return ProcessorTimedOut(str(problem.get("detail") or "the processor timed out"))
    if str(problem.get("type", "")).rsplit("/", 1)[-1] in _KEY_HELD_ELSEWHERE:
        return ChargeInFlight(detail)
    if response.is_server_error:
        return ProviderUnavailable(f"payment provider answered {response.status_code}")
    return ProviderRejected(response.status_code, detail)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
