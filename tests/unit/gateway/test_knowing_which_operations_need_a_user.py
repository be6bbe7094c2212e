"""The gateway asks for a verified user exactly where the services behind it do: every
operation of the monolith's, the auth service's and the billing service's public API that
takes a bearer token needs one at the edge, and every one that does not stays open."""

from __future__ import annotations

import re

import pytest
from auth_service.entrypoints.app import create_app as auth_app
from auth_service.settings import AuthSettings
from billing_service.entrypoints.app import create_app as billing_app
from billing_service.settings import BillingSettings
from fastapi import FastAPI
from legacy_monolith.app import create_app as monolith_app
from legacy_monolith.settings import MonolithSettings
from strangler_gateway.edge_auth import EdgeAuth
from strangler_tokens import TokenVerifier

SECRET = "a-secret-for-documents-only-32-bytes"
PUBLIC_PREFIXES = ("/api/", "/.well-known/")


def _apps() -> dict[str, FastAPI]:
    return {
        "monolith": monolith_app(MonolithSettings(jwt_secret=SECRET, operator_token=SECRET)),
        "auth": auth_app(AuthSettings(operator_token=SECRET)),
        "billing": billing_app(BillingSettings(jwt_secret=SECRET, operator_token=SECRET)),
    }


def _operations() -> list[tuple[str, str, str, bool]]:
    """(service, method, a concrete path, whether it takes a bearer token) for each operation."""
    found = []
    for service, app in _apps().items():
        for path, operations in app.openapi()["paths"].items():
            if not path.startswith(PUBLIC_PREFIXES):
                continue
            concrete = re.sub(r"\{[^}]+\}", "some-id", path)
            for method, operation in operations.items():
                found.append((service, method.upper(), concrete, "security" in operation))
    return found


@pytest.mark.parametrize(("service", "method", "path", "takes_a_token"), _operations())
def test_the_edge_needs_a_user_exactly_where_the_service_takes_a_token(
    service: str, method: str, path: str, takes_a_token: bool
) -> None:
    edge = EdgeAuth(TokenVerifier())

    assert edge.needs_user(method, path) == takes_a_token
