"""The operator token the `strangler` commands send to the components' internal APIs.

`strangler up` generates one admin token (`admin_token` in the state dir's secrets.json) and
gives it to the gateway's admin API and to every process's `/internal/*` (`MONOLITH_`,
`BILLING_OPERATOR_TOKEN`). The commands send it as a bearer token; STRANGLER_GATEWAY_ADMIN_TOKEN
replaces it for a system this machine did not start.
"""

from __future__ import annotations

from strangler_runner.settings import RunnerSettings
from strangler_runner.state import StateDir

__all__ = ["operator_headers"]


def operator_headers(settings: RunnerSettings) -> dict[str, str]:
    """``Authorization: Bearer <token>``, or nothing when no token is known here (the
    component then answers 401 operator-token-required, which the command shows)."""
    if settings.gateway_admin_token is not None:
        token: str | None = settings.gateway_admin_token.get_secret_value()
    else:
        token = StateDir(settings.state_dir).stored_admin_token()
    return {"Authorization": f"Bearer {token}"} if token else {}
