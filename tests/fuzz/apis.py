"""What schemathesis fuzzes: every HTTP API of a running system, with a signed-in caller.

Each ``FuzzTarget`` names an OpenAPI document and the base URL the cases go to. The
gateway's public entry is fuzzed with the monolith's document: it must answer exactly as
the monolith does, and never with a status or body the document does not list.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.running_system import RunningSystem

__all__ = [
    "CHECKS",
    "FuzzTarget",
    "cases_generated",
    "record_cases",
    "refused_operations",
    "run_schemathesis",
    "signed_in_token",
    "targets",
]

# Schemathesis's summary: "Test cases:" then "  1234 generated, 1234 passed".
GENERATED = re.compile(r"^Test cases:\s*\n\s*(\d+) generated", re.MULTILINE)
NONE_GENERATED = "No test cases were generated"
# Its warning "Authentication failed: N operations returned only 401/403 responses", then the
# operations ("  - GET /api/users/me/closure"), then a hint line starting with a light bulb.
AUTH_FAILED = re.compile(r"^Authentication failed:.*?(?=^\S*💡|\Z)", re.MULTILINE | re.DOTALL)
LISTED_OPERATION = re.compile(r"^\s+- ([A-Z]+) (\S+)$", re.MULTILINE)

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Operation ids left out: emptying the sink mid-run would hide the mail other cases send;
# closing the account mid-run (DELETE /api/users/me, which takes no body: its first case
# succeeds) would erase the caller, and every later case — /api/users/me/closure, then
# /api/billing and /api/notifications — would meet only 401. Wherever the monolith's document
# or auth's is fuzzed, the gateway's public entry included.
CLOSE_ACCOUNT = "close_account_api_users_me_delete"
EXCLUDED_OPERATIONS = {
    "smtp-sink": ("clear_messages_messages_delete",),
    "monolith": (CLOSE_ACCOUNT,),
    "gateway": (CLOSE_ACCOUNT,),
    "auth": (CLOSE_ACCOUNT,),
}


@dataclass(frozen=True)
class FuzzTarget:
    name: str
    schema_url: str
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    excluded: tuple[str, ...] = ()
    excluded_paths: str | None = None
    included_paths: str | None = None
    examples: int = 60
    """Cases per operation in a full run: enough for 1,000+ cases on each API."""
    request_timeout: int = 10
    """Seconds an answer may take. An operator's backfill copies every record the other
    cases made before it answers: more than 10 s once the fuzzing made thousands."""


def signed_in_token(system: RunningSystem, at: str | None = None) -> str:
    """Register a customer and log in, at the monolith or at ``at`` (auth, which issues its
    own tokens): the bearer every case carries."""
    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
    password = "fuzzing-password-1"
    with httpx.Client(base_url=at or system.monolith_url, timeout=30) as client:
        registered = client.post(
            "/api/users", json={"email": email, "password": password, "name": "Fuzz"}
        )
        registered.raise_for_status()
        logged_in = client.post("/api/auth/login", json={"email": email, "password": password})
        logged_in.raise_for_status()
        token: str = logged_in.json()["access_token"]
        return token


def targets(system: RunningSystem, token: str) -> list[FuzzTarget]:
    """The public APIs with a customer's bearer; ``/internal/*`` again with the operator's."""
    bearer = {"Authorization": f"Bearer {token}"}
    operator = {"Authorization": f"Bearer {system.secrets()['admin_token']}"}
    monolith_document = f"{system.monolith_url}/openapi.json"
    billing_document = f"{system.billing_url}/openapi.json"
    notifications_document = f"{system.notifications_url}/openapi.json"
    auth_document = f"{system.auth_url}/openapi.json"
    auth_bearer = {"Authorization": f"Bearer {signed_in_token(system, at=system.auth_url)}"}
    return [
        # Every login and registration costs an argon2id hash: fewer cases than elsewhere.
        FuzzTarget(
            "auth",
            auth_document,
            system.auth_url,
            auth_bearer,
            excluded=EXCLUDED_OPERATIONS["auth"],
            excluded_paths="^/internal/",
            examples=30,
        ),
        FuzzTarget(
            "auth-internal",
            auth_document,
            system.auth_url,
            operator,
            included_paths="^/internal/",
            examples=20,
            request_timeout=60,
        ),
        FuzzTarget(
            "monolith",
            monolith_document,
            system.monolith_url,
            bearer,
            excluded=EXCLUDED_OPERATIONS["monolith"],
            examples=60,
        ),
        FuzzTarget("billing", billing_document, system.billing_url, bearer),
        FuzzTarget(
            "notifications",
            notifications_document,
            system.notifications_url,
            bearer,
            excluded_paths="^/internal/",
        ),
        FuzzTarget(
            "notifications-internal",
            notifications_document,
            system.notifications_url,
            operator,
            included_paths="^/internal/",
            examples=100,
            request_timeout=60,
        ),
        FuzzTarget(
            "payment-simulator",
            f"{system.payment_simulator_url}/openapi.json",
            system.payment_simulator_url,
            examples=250,
        ),
        # /internal/* is not served on the public entry (404 no-route there, on purpose).
        FuzzTarget(
            "gateway",
            monolith_document,
            system.gateway_url,
            bearer,
            excluded=EXCLUDED_OPERATIONS["gateway"],
            excluded_paths="^/internal/",
        ),
        FuzzTarget(
            "monolith-internal",
            monolith_document,
            system.monolith_url,
            operator,
            included_paths="^/internal/",
            examples=100,
            request_timeout=60,
        ),
        FuzzTarget(
            "billing-internal",
            billing_document,
            system.billing_url,
            operator,
            included_paths="^/internal/",
            examples=100,
            request_timeout=60,
        ),
        FuzzTarget(
            "smtp-sink",
            f"{system.mail_url}/openapi.json",
            system.mail_url,
            excluded=EXCLUDED_OPERATIONS["smtp-sink"],
            examples=400,
        ),
        # The operator's listener: flags, kill switch, diffs, audit. Fuzzed last in a run, as
        # its cases really set flags (a route may end up on new or canary for what follows).
        FuzzTarget(
            "gateway-admin",
            f"{system.gateway_admin_url}/_strangler/openapi.json",
            system.gateway_admin_url,
            operator,
            examples=30,
        ),
    ]


def run_schemathesis(
    target: FuzzTarget,
    *,
    max_examples: int,
    timeout_seconds: int,
    report_dir: Path,
    seed: int | None = None,
    phases: str = "examples,coverage,fuzzing",
) -> subprocess.CompletedProcess[str]:
    """``st run`` against one target; its whole output is returned, never raised."""
    command = [
        str(Path(sys.executable).parent / "st"),
        "run",
        target.schema_url,
        "--url",
        target.base_url,
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(max_examples),
        "--phases",
        phases,
        # One worker: CPython 3.11's ast.parse is not thread-safe, and hypothesis parses
        # lambdas while schemathesis draws cases ("AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--request-timeout",
        str(target.request_timeout),
        "--suppress-health-check",
        "all",
        "--report",
        "junit",
        "--report-junit-path",
        str(report_dir / f"{target.name}.xml"),
        "--no-color",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    for name, value in target.headers.items():
        command += ["--header", f"{name}: {value}"]
    for operation_id in target.excluded:
        command += ["--exclude-operation-id", operation_id]
    if target.excluded_paths is not None:
        command += ["--exclude-path-regex", target.excluded_paths]
    if target.included_paths is not None:
        command += ["--include-path-regex", target.included_paths]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout_seconds, check=False
    )


def cases_generated(output: str) -> int:
    """How many cases schemathesis generated (and sent), from its summary; 0 if none were.

    Raises ``ValueError`` when the output has no summary (the run did not get that far)."""
    found = GENERATED.search(output)
    if found is not None:
        return int(found.group(1))
    if NONE_GENERATED in output:
        return 0
    raise ValueError("schemathesis printed no summary of its test cases")


def refused_operations(output: str) -> list[str]:
    """The operations (``"GET /api/users/me/closure"``) schemathesis says answered only 401 or
    403 to the run's credentials: its cases never reached past the door."""
    return [
        f"{method} {path}"
        for warning in AUTH_FAILED.findall(output)
        for method, path in LISTED_OPERATION.findall(warning)
    ]


def record_cases(path: Path, api: str, cases: int) -> dict[str, int]:
    """Add ``api``'s case count to the JSON object at ``path`` (one run's counts, per API)."""
    counts: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
    counts[api] = cases
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(sorted(counts.items())), indent=2) + "\n")
    return counts
