"""Every OpenAPI document lists each status an operation can answer, as a problem document."""

from __future__ import annotations

from typing import Any

import pytest
from billing_service.entrypoints.app import create_app as create_billing
from billing_service.settings import BillingSettings
from fastapi import FastAPI
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.settings import MonolithSettings
from payment_simulator.app import create_app as create_payment_simulator
from smtp_sink.app import create_app as create_smtp_sink

PROBLEM = {"$ref": "#/components/schemas/ProblemDocument"}
METHODS = {"get", "put", "post", "delete", "patch"}
SECRET = "openapi-test-secret-with-32-bytes!!"
OPERATOR = "operator-token-for-openapi-tests-0123456789"


def _apps() -> dict[str, FastAPI]:
    return {
        "monolith": create_monolith(MonolithSettings(jwt_secret=SECRET, operator_token=OPERATOR)),
        "billing": create_billing(BillingSettings(jwt_secret=SECRET, operator_token=OPERATOR)),
        "payment-simulator": create_payment_simulator(),
        "smtp-sink": create_smtp_sink(),
    }


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {name: app.openapi() for name, app in _apps().items()}


@pytest.mark.parametrize("api", ["monolith", "billing", "payment-simulator", "smtp-sink"])
def test_every_error_answer_is_documented_as_a_problem_document(
    documents: dict[str, dict[str, Any]], api: str
) -> None:
    document = documents[api]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for name, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}, (
                    f"{name} {status}"
                )


@pytest.mark.parametrize("api", ["monolith", "billing", "payment-simulator", "smtp-sink"])
def test_every_operation_documents_what_any_request_can_be_answered(
    documents: dict[str, dict[str, Any]], api: str
) -> None:
    for name, operation in _operations(documents[api]):
        statuses = set(operation["responses"])
        assert {"400", "422", "500", "503"} <= statuses, name
        if "requestBody" in operation:
            assert "413" in statuses, name
        if operation.get("security"):
            assert "401" in statuses, name
        if "{" in name:
            assert "404" in statuses, name


@pytest.mark.parametrize(
    ("api", "operation", "statuses"),
    [
        ("monolith", "POST /api/users", {"201", "409", "422"}),
        ("monolith", "POST /api/auth/login", {"200", "401"}),
        ("monolith", "POST /api/users/me/password", {"204", "401", "403"}),
        ("monolith", "POST /api/billing/invoices/{invoice_id}/pay", {"201", "402", "409", "504"}),
        ("billing", "POST /api/billing/invoices/{invoice_id}/refund", {"201", "404", "409"}),
        ("billing", "GET /internal/billing/sync", {"200", "404"}),
        ("monolith", "GET /internal/billing/sync", {"200", "404"}),
        ("payment-simulator", "POST /v1/charges", {"201", "400", "402", "409", "422", "504"}),
    ],
)
def test_an_operation_documents_its_own_refusals(
    documents: dict[str, dict[str, Any]], api: str, operation: str, statuses: set[str]
) -> None:
    operations = dict(_operations(documents[api]))
    assert statuses <= set(operations[operation]["responses"])


def test_the_payment_simulator_documents_the_idempotency_key_as_it_behaves(
    documents: dict[str, dict[str, Any]],
) -> None:
    operations = dict(_operations(documents["payment-simulator"]))
    for name in ("POST /v1/charges", "POST /v1/refunds"):
        [key] = [p for p in operations[name]["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["in"] == "header"
        assert (key["schema"]["type"], key["schema"]["maxLength"]) == ("string", 255)
        assert "Idempotent-Replayed" in key["description"]
        assert "idempotency-key-reused" in key["description"]


def test_the_public_idempotency_key_is_documented_with_its_bounds(
    documents: dict[str, dict[str, Any]],
) -> None:
    for api in ("monolith", "billing"):
        operations = dict(_operations(documents[api]))
        pay = operations["POST /api/billing/invoices/{invoice_id}/pay"]
        [key] = [p for p in pay["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["schema"]["type"] == "string"
        assert key["schema"]["pattern"] == r"^[\x21-\x7e]{1,200}$"
