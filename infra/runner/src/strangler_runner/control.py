"""`strangler stop|start|restart <component>`: a request to the running runner.

The runner listens on a Unix socket in its state folder (`control.sock`, mode 0600 inside
the 0700 folder: only its owner can talk to it). A request is one JSON line,
`{"command": "restart", "component": "billing"}`; the runner acts, and answers one JSON line,
`{"ok": true, "message": "billing is healthy again (pid 4242)"}`, once the component is
stopped, or started and healthy. Nothing else is said on the socket.
"""

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ValidationError

__all__ = [
    "ControlCommand",
    "ControlReply",
    "ControlRequest",
    "RunnerNotAnswering",
    "ask_runner",
    "serve_control",
]

ControlCommand = Literal["stop", "start", "restart"]
CONTROL_COMMANDS: tuple[str, ...] = get_args(ControlCommand)
_MAX_REQUEST_BYTES = 4096
# AF_UNIX paths are limited to 107 bytes; a longer one is reached through /proc/self/fd.
_LONGEST_SOCKET_PATH = 100


class ControlRequest(BaseModel):
    command: ControlCommand
    component: str


class ControlReply(BaseModel):
    ok: bool
    message: str


class RunnerNotAnswering(Exception):
    """No runner listens on the state folder's control socket, or it did not answer."""


Handler = Callable[[ControlRequest], Awaitable[ControlReply]]


@contextlib.contextmanager
def _socket_address(path: Path) -> Iterator[str]:
    """`path`, or the same file reached through an open descriptor of its folder if too long."""
    if len(os.fsencode(path)) <= _LONGEST_SOCKET_PATH:
        yield str(path)
        return
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


async def serve_control(path: Path, handle: Handler) -> asyncio.AbstractServer:
    """Listen on `path` (replacing a socket a dead runner left) and answer with `handle`."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            try:
                reply = await handle(ControlRequest.model_validate_json(line))
            except ValidationError:
                reply = ControlReply(ok=False, message="not a request this runner understands")
            writer.write(reply.model_dump_json().encode() + b"\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    path.unlink(missing_ok=True)  # noqa: ASYNC240 — one small file, once per run
    with _socket_address(path) as address:
        server = await asyncio.start_unix_server(answer, address, limit=_MAX_REQUEST_BYTES)
    os.chmod(path, 0o600)
    return server


def ask_runner(
    path: Path, command: ControlCommand, component: str, timeout_seconds: float
) -> ControlReply:
    """Send one request and wait, at most `timeout_seconds`, for the runner's answer."""
    request = ControlRequest(command=command, component=component)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout_seconds)
        try:
            with _socket_address(path) as address:
                connection.connect(address)
            connection.sendall(request.model_dump_json().encode() + b"\n")
            answer = connection.makefile("rb").readline()
        except FileNotFoundError:
            raise RunnerNotAnswering(f"no runner listens on {path}") from None
        except TimeoutError:
            raise RunnerNotAnswering(
                f"the runner did not answer within {timeout_seconds:g} s"
            ) from None
        except OSError as failed:
            raise RunnerNotAnswering(f"cannot reach the runner on {path}: {failed}") from None
    try:
        return ControlReply.model_validate_json(answer)
    except ValidationError:
        raise RunnerNotAnswering("the runner closed the connection without an answer") from None


def tell_runner(
    state_dir: Path,
    command: ControlCommand,
    component: str,
    timeout_seconds: float,
    say: Callable[[str], None],
    complain: Callable[[str], None],
) -> int:
    """`strangler stop|start|restart <component>`: the exit code (0 once done)."""
    try:
        reply = ask_runner(state_dir / "control.sock", command, component, timeout_seconds)
    except RunnerNotAnswering as silent:
        complain(f"{silent} — is the system up? (`strangler status`)")
        return 1
    (say if reply.ok else complain)(reply.message)
    return 0 if reply.ok else 1
