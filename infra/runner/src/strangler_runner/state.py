"""What the runner keeps on disk between runs, under its state directory.

```
<state_dir>/secrets.json   generated once, mode 0600, reused on every run
<state_dir>/data/          one SQLite file per component
<state_dir>/run.json       present only while a runner is up: who runs where, in which state
<state_dir>/control.sock   present only while a runner is up: `strangler stop|start|restart`
```
"""

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

__all__ = [
    "ComponentRecord",
    "ComponentState",
    "LocalSecrets",
    "RunPhase",
    "RunRecord",
    "StateDir",
]

_OWNER_ONLY = 0o600


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class LocalSecrets(BaseModel):
    """Secrets for this machine only; a secret added later is generated on the next run."""

    jwt_secret: str = Field(default_factory=_new_secret)
    admin_token: str = Field(default_factory=_new_secret)


RunPhase = Literal["starting", "running", "stopping"]


ComponentState = Literal["starting", "up", "restarting", "stopping", "stopped"]
"""`restarting`: it died and the runner is starting it again; `stopped`: on request."""


class ComponentRecord(BaseModel):
    name: str
    pid: int
    urls: dict[str, str]
    health_url: str
    state: ComponentState = "starting"
    restarts: int = 0
    """How often the runner started it again, after it died or on request."""
    last_exit: str | None = None
    """Why it last stopped: `was killed by SIGKILL unexpectedly`, `stopped on request`."""
    last_exit_at: datetime | None = None


class RunRecord(BaseModel):
    runner_pid: int
    runner_start_ticks: int | None
    started_at: datetime
    phase: RunPhase
    components: list[ComponentRecord] = Field(default_factory=list)


@dataclass(frozen=True)
class StateDir:
    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def run_file(self) -> Path:
        return self.root / "run.json"

    @property
    def control_socket(self) -> Path:
        """Where the running runner takes `stop|start|restart <component>` (see control.py)."""
        return self.root / "control.sock"

    def create(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)

    def load_or_create_secrets(self) -> LocalSecrets:
        stored = self._read_json(self.secrets_file)
        local_secrets = LocalSecrets.model_validate(stored or {})
        if local_secrets.model_dump() != stored:
            _write_private(self.secrets_file, local_secrets.model_dump_json(indent=2))
        os.chmod(self.secrets_file, _OWNER_ONLY)
        return local_secrets

    def stored_admin_token(self) -> str | None:
        """The gateway's admin token as stored; unlike `load_or_create_secrets`, never writes."""
        token = (self._read_json(self.secrets_file) or {}).get("admin_token")
        return token if isinstance(token, str) and token else None

    def read_run_record(self) -> RunRecord | None:
        stored = self._read_json(self.run_file)
        if stored is None:
            return None
        try:
            return RunRecord.model_validate(stored)
        except ValidationError:
            return None

    def write_run_record(self, record: RunRecord) -> None:
        _write_private(self.run_file, record.model_dump_json(indent=2))

    def remove_run_record(self) -> None:
        self.run_file.unlink(missing_ok=True)

    @staticmethod
    def _read_json(path: Path) -> dict[str, object] | None:
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return content if isinstance(content, dict) else None


def _write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with a file only its owner can read."""
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _OWNER_ONLY)
    with os.fdopen(descriptor, "w", encoding="utf-8") as staged:
        os.fchmod(staged.fileno(), _OWNER_ONLY)
        staged.write(text + "\n")
    os.replace(staging, path)
