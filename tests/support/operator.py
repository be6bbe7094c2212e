"""The operator token the tests start deployables with (``<PREFIX>_OPERATOR_TOKEN``)."""

from __future__ import annotations

__all__ = ["OPERATOR_HEADERS", "OPERATOR_TOKEN"]

OPERATOR_TOKEN = "test-operator-token-for-internal-apis"
OPERATOR_HEADERS = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
