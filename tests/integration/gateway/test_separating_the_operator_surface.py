"""The operator surface (admin API, metrics) answers on its own listener, never on the public
entry; against the real ``strangler-gateway serve`` process."""

from __future__ import annotations

import httpx

from .conftest import ADMIN_TOKEN, GatewayProcessFactory

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
OPERATOR_PATHS = ["/_strangler/flags", "/_strangler/routes", "/_strangler/docs", "/metrics"]


async def test_nothing_internal_answers_on_the_public_entry(
    flag_database: str, gateway_process: GatewayProcessFactory
) -> None:
    gateway = await gateway_process(flag_database)

    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as public:
        answers = {path: await public.get(path, headers=ADMIN) for path in OPERATOR_PATHS}
        flag_change = await public.put(
            "/_strangler/flags/billing", json={"mode": "new"}, headers=ADMIN
        )
        health = await public.get("/health/live")

    for path, answer in {**answers, "PUT flags": flag_change}.items():
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json", path
        assert answer.json()["type"].endswith("/no-route"), path
    assert health.status_code == 200


async def test_the_operator_listener_serves_the_admin_api_only_with_the_token_and_metrics(
    flag_database: str, gateway_process: GatewayProcessFactory
) -> None:
    gateway = await gateway_process(flag_database)

    async with httpx.AsyncClient(base_url=gateway.admin_url, timeout=10) as operator:
        without = await operator.get("/_strangler/flags")
        wrong = await operator.put(
            "/_strangler/flags/billing",
            json={"mode": "new"},
            headers={"Authorization": "Bearer not-the-token"},
        )
        with_token = await operator.get("/_strangler/flags", headers=ADMIN)
        metrics = await operator.get("/metrics")

    assert without.status_code == 401
    assert without.json()["type"].endswith("/operator-token-required")
    assert wrong.status_code == 403
    assert with_token.status_code == 200
    assert {flag["mode"] for flag in with_token.json()["flags"]} == {"legacy"}
    assert "strangler_gateway_requests_total" in metrics.text


async def test_the_admin_api_documents_its_refusals_as_problem_documents(
    flag_database: str, gateway_process: GatewayProcessFactory
) -> None:
    gateway = await gateway_process(flag_database)

    async with httpx.AsyncClient(base_url=gateway.admin_url, timeout=10) as operator:
        document = (await operator.get("/_strangler/openapi.json")).json()

    operations = [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        if path.startswith("/_strangler/")
        for method, operation in methods.items()
    ]
    assert operations
    for name, operation in operations:
        for status in ("401", "403"):
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], name
    set_flag = document["paths"]["/_strangler/flags/{route_name}"]["put"]["responses"]
    assert {"404", "409", "422"} <= set(set_flag)
