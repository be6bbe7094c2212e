"""`strangler auth rotate-keys | keys`: the auth service's signing keys, from a terminal.

Auth serves them to operators at `/internal/auth/keys` (outside `/api`: the gateway does not
route it), to callers with the operator token only. A rotation promotes the key published as
`next` (every verifier already holds it), keeps the old key published until the last token it
signed has expired, and publishes a new `next`. Every failure — auth not running, a refusal —
is one line on stderr and exit code 1.
"""

from datetime import UTC, datetime

import httpx
from pydantic import BaseModel

from strangler_runner.component_api import ComponentApi, ComponentCallFailed
from strangler_runner.console import RunnerConsole
from strangler_runner.operator_credential import operator_headers
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import StateDir
from strangler_runner.status import live_run_record

__all__ = ["KEYS_PATH", "auth_url", "rotate_keys", "show_keys"]

KEYS_PATH = "/internal/auth/keys"
NOTHING = "—"


class SigningKeyRow(BaseModel):
    kid: str
    state: str
    created_at: datetime
    activated_at: datetime | None
    retire_after: datetime | None


class RotationAnswer(BaseModel):
    signing: str
    next: str
    retired: list[str]
    keys: list[SigningKeyRow]


def auth_url(settings: RunnerSettings) -> str:
    """STRANGLER_AUTH_URL, else the auth `strangler up` runs here, else
    http://STRANGLER_HOST:STRANGLER_AUTH_PORT."""
    if settings.auth_url:
        return settings.auth_url
    record = live_run_record(StateDir(settings.state_dir))
    auth = next((c for c in record.components if c.name == "auth"), None) if record else None
    if auth is not None and "http" in auth.urls:
        return auth.urls["http"]
    return f"http://{settings.host}:{settings.auth_port}"


def _api(settings: RunnerSettings, transport: httpx.BaseTransport | None) -> ComponentApi:
    return ComponentApi(
        "auth", auth_url(settings), "key endpoints", headers=operator_headers(settings),
        prefix=KEYS_PATH, transport=transport,
    )  # fmt: skip


def rotate_keys(
    settings: RunnerSettings,
    console: RunnerConsole,
    *,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Rotate auth's signing keys and show the keys it publishes afterwards."""
    try:
        with _api(settings, transport) as api:
            rotation = api.read(RotationAnswer, api.call("POST", "/rotate"))
    except ComponentCallFailed as failure:
        console.error(str(failure))
        return 1
    console.message(f"auth signs with {rotation.signing} from now on")
    console.message(f"published as next: {rotation.next}")
    _table(rotation.keys, console)
    return 0


def show_keys(
    settings: RunnerSettings,
    console: RunnerConsole,
    *,
    transport: httpx.BaseTransport | None = None,
) -> int:
    try:
        with _api(settings, transport) as api:
            keys = api.read(list[SigningKeyRow], api.call("GET", ""))
    except ComponentCallFailed as failure:
        console.error(str(failure))
        return 1
    _table(keys, console)
    return 0


def _when(at: datetime | None) -> str:
    return NOTHING if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _table(keys: list[SigningKeyRow], console: RunnerConsole) -> None:
    console.table(
        ["kid", "state", "created", "signing since", "published until"],
        [
            [key.kid, key.state, _when(key.created_at), _when(key.activated_at),
             _when(key.retire_after)]
            for key in keys
        ],
        unbroken=["kid"],
    )  # fmt: skip
