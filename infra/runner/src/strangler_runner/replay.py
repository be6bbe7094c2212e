"""`strangler events replay`: every outbox re-publishes a time range, e.g. after the embedded
broker lost its log. Each producer owns its outbox, so the runner asks each one, through its
own command and settings; the relays inside the running processes do the publishing."""

import os
import subprocess
from datetime import datetime

from strangler_runner.components import system_components
from strangler_runner.console import RunnerConsole
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import StateDir

__all__ = ["replay_outboxes"]


def replay_outboxes(
    settings: RunnerSettings, console: RunnerConsole, since: datetime, until: datetime | None
) -> int:
    state = StateDir(settings.state_dir)
    components = system_components(settings, state.load_or_create_secrets(), state)
    window = ["--since", since.isoformat()] + (["--until", until.isoformat()] if until else [])
    failed = 0
    for component in components:
        if not component.outbox_replay:
            continue
        result = subprocess.run(  # noqa: S603  (our own console scripts)
            [*component.outbox_replay, *window],
            env={**os.environ, **component.env},
            capture_output=True,
            text=True,
            check=False,
        )
        for text in (result.stdout + result.stderr).splitlines():
            console.line(component.name, text)
        failed += result.returncode != 0
    return 1 if failed else 0
