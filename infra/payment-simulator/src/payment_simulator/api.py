"""The provider's HTTP API: charges and refunds, each made at most once per Idempotency-Key."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from http_platform import PROBLEM_CONTENT_TYPE, Page, PageQuery, Problem
from http_platform.service_app import root_of
from pydantic import BaseModel

from payment_simulator.bootstrap import Simulator
from payment_simulator.idempotency import IdempotencyStore, StoredResponse
from payment_simulator.ledger import Charge
from payment_simulator.problems import card_declined
from payment_simulator.processor import PaymentProcessor
from payment_simulator.schemas import ChargeRequest, ChargeResponse, RefundRequest, RefundResponse

__all__ = ["router"]

REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_CONTENT_TYPE: {}}}


async def _processor(request: Request) -> PaymentProcessor:
    return root_of(request, Simulator).processor


async def _idempotency(request: Request) -> IdempotencyStore:
    return root_of(request, Simulator).idempotency


_KEY_DESCRIPTION = (
    f"Required, 1 to {MAX_KEY_LENGTH} characters (without it: 400 idempotency-key-required; "
    "longer: 400 idempotency-key-too-long). The first request under a key that records a "
    "charge (succeeded or declined) or a refund fixes the answer: the same key with the same "
    f"request answers it again, with `{REPLAYED_HEADER}: true`; with another request, 422 "
    "idempotency-key-reused; while the first is still running, 409 idempotency-key-in-use. "
    "A request that recorded nothing (invalid input, unknown charge, processor timeout) "
    "releases its key, so a retry under it runs anew."
)


def _idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description=_KEY_DESCRIPTION,
            json_schema_extra={"minLength": 1, "maxLength": MAX_KEY_LENGTH},
        ),
    ] = None,
) -> str:
    if not idempotency_key:
        raise Problem(
            400,
            "idempotency-key-required",
            "Idempotency-Key required",
            "Send an Idempotency-Key header so that a retry cannot act twice.",
        )
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise Problem(
            400,
            "idempotency-key-too-long",
            "Idempotency-Key too long",
            f"An Idempotency-Key has at most {MAX_KEY_LENGTH} characters.",
        )
    return idempotency_key


Processor = Annotated[PaymentProcessor, Depends(_processor)]
Idempotency = Annotated[IdempotencyStore, Depends(_idempotency)]
IdempotencyKey = Annotated[str, Depends(_idempotency_key)]

router = APIRouter(prefix="/v1", tags=["payments"])


@router.post(
    "/charges",
    status_code=201,
    response_model=ChargeResponse,
    responses={code: _PROBLEM for code in (400, 402, 409, 422, 504)},
)
async def create_charge(
    payload: ChargeRequest,
    key: IdempotencyKey,
    request: Request,
    processor: Processor,
    idempotency: Idempotency,
) -> Response:
    """Charge a card; a retry with the same Idempotency-Key replays the first answer."""

    async def attempt() -> StoredResponse:
        charge = await processor.charge(
            amount=payload.amount,
            currency=payload.currency,
            card_number=payload.card_number,
            description=payload.description,
        )
        return _charge_outcome(charge, request.url.path)

    return await _respond_once(idempotency, key, request, payload, attempt)


@router.get("/charges", response_model=Page[ChargeResponse])
async def list_charges(page: PageQuery, processor: Processor) -> Page[ChargeResponse]:
    """Every charge, succeeded or failed, newest first."""
    charges, total = processor.ledger.charges(limit=page.limit, offset=page.offset)
    return Page(
        items=[ChargeResponse.of(charge) for charge in charges],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/charges/{charge_id}", responses={404: _PROBLEM})
async def get_charge(charge_id: str, processor: Processor) -> ChargeResponse:
    """One charge, with how much of it was refunded."""
    return ChargeResponse.of(processor.ledger.charge(charge_id))


@router.post(
    "/refunds",
    status_code=201,
    response_model=RefundResponse,
    responses={code: _PROBLEM for code in (400, 402, 404, 409, 422)},
)
async def create_refund(
    payload: RefundRequest,
    key: IdempotencyKey,
    request: Request,
    processor: Processor,
    idempotency: Idempotency,
) -> Response:
    """Refund part or all of a succeeded charge, once per Idempotency-Key."""

    async def attempt() -> StoredResponse:
        refund = processor.refund(payload.charge_id, payload.amount)
        return StoredResponse(
            201, RefundResponse.of(refund).model_dump_json().encode(), "application/json"
        )

    return await _respond_once(idempotency, key, request, payload, attempt)


def _charge_outcome(charge: Charge, instance: str) -> StoredResponse:
    if charge.status == "succeeded":
        body = ChargeResponse.of(charge).model_dump_json().encode()
        return StoredResponse(201, body, "application/json")
    problem = card_declined(charge.id, charge.failure_code or "generic_decline")
    return StoredResponse(402, bytes(problem.to_response(instance).body), PROBLEM_CONTENT_TYPE)


async def _respond_once(
    idempotency: IdempotencyStore,
    key: str,
    request: Request,
    payload: BaseModel,
    attempt: Callable[[], Awaitable[StoredResponse]],
) -> Response:
    fingerprint = hashlib.sha256(
        f"{request.method} {request.url.path}\n{payload.model_dump_json()}".encode()
    ).hexdigest()
    stored, replayed = await idempotency.respond_once(key, fingerprint, attempt)
    return Response(
        stored.body,
        status_code=stored.status_code,
        media_type=stored.media_type,
        headers={REPLAYED_HEADER: "true"} if replayed else None,
    )
