"""Nothing under ``/internal`` answers without the operator token: every internal operation
the process documents is tried without it, with a wrong one, and with the right one."""

from __future__ import annotations

import re

import httpx

from tests.integration.serving.conftest import OPERATOR_TOKEN, Deployable

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _internal_operations(document: dict[str, object]) -> list[tuple[str, str]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return sorted(
        (method.upper(), re.sub(r"\{[^}]+\}", "customers", path))
        for path, operations in paths.items()
        if path.startswith("/internal")
        for method in operations
        if method in HTTP_METHODS
    )


async def _answers(
    client: httpx.AsyncClient, operations: list[tuple[str, str]], token: str | None
) -> dict[tuple[str, str], httpx.Response]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return {
        (method, path): await client.request(method, path, headers=headers, json={"ids": []})
        for method, path in operations
    }


def _slug(answer: httpx.Response) -> str:
    return str(answer.json().get("type", "")).rpartition("/")[2]


async def test_every_internal_endpoint_answers_only_the_operator_token(
    deployable: Deployable,
) -> None:
    async with httpx.AsyncClient(base_url=deployable.url, timeout=30) as client:
        operations = _internal_operations((await client.get("/openapi.json")).json())
        anonymous = await _answers(client, operations, None)
        wrong = await _answers(client, operations, "not-the-operator-token-at-all")
        operator = await _answers(client, operations, OPERATOR_TOKEN)

    assert operations, "the process documents no /internal operation"
    assert {op: (a.status_code, _slug(a)) for op, a in anonymous.items()} == dict.fromkeys(
        operations, (401, "operator-token-required")
    )
    assert all(a.headers["www-authenticate"].startswith("Bearer") for a in anonymous.values())
    assert {op: (a.status_code, _slug(a)) for op, a in wrong.items()} == dict.fromkeys(
        operations, (403, "operator-token-wrong")
    )
    assert {op: a.status_code for op, a in operator.items() if a.status_code in (401, 403)} == {}


async def test_an_export_of_customers_is_read_with_the_operator_token(
    deployable: Deployable,
) -> None:
    path = "/internal/billing/export/customers"
    async with httpx.AsyncClient(base_url=deployable.url, timeout=30) as client:
        without = await client.get(path)
        with_token = await client.get(path, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})

    assert without.status_code == 401
    assert without.headers["content-type"] == "application/problem+json"
    assert "records" not in without.json()
    assert with_token.status_code == 200, with_token.text
    assert with_token.json()["entity"] == "customers"
