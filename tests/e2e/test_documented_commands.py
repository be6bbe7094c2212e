"""The `./strangler …` commands the docs show work as written, with no uv on PATH: on a
machine where `make install` put uv into .strangler/tools, a new terminal has only Python."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.running_system import RunningSystem, force_stop, start_system, stop_system

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "strangler"
PRIVATE_UV = ROOT / ".strangler" / "tools" / "bin" / "uv"
DOCS = sorted(
    path
    for pattern in ("*.md", "*/README.md", "*/*/README.md")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts and ".strangler" not in path.parts
)
READ_ONLY = (
    "--help",
    "status",
    "flags list",
    "flags history",
    "events topics",
    "dlq list",
    "sagas",
    "diffs",
    "migrate billing status",
    "migrate auth status",
    "auth keys",
)
"""Commands that only look: run against a live system, whatever it holds."""
DOCUMENTED = re.compile(r"^\s*\./strangler ([^#\n]*)", re.MULTILINE)


def documented_commands() -> list[str]:
    """The arguments of every `./strangler …` line in the docs' code blocks, comments cut."""
    found: list[str] = []
    for doc in DOCS:
        for block in re.findall(r"```[a-z]*\n(.*?)```", doc.read_text(), re.DOTALL):
            found += [match.strip() for match in DOCUMENTED.findall(block)]
    return list(dict.fromkeys(found))


@pytest.fixture(scope="module")
def private_uv() -> Iterator[Path]:
    """uv where `make install` puts it when it is not on PATH (linked there if uv is)."""
    if PRIVATE_UV.exists():
        yield PRIVATE_UV
        return
    installed = shutil.which("uv")
    assert installed is not None, "neither uv on PATH nor .strangler/tools/bin/uv: run make install"
    PRIVATE_UV.parent.mkdir(parents=True, exist_ok=True)
    PRIVATE_UV.symlink_to(installed)
    try:
        yield PRIVATE_UV
    finally:
        PRIVATE_UV.unlink()


@pytest.fixture(scope="module")
def bare_path(tmp_path_factory: pytest.TempPathFactory, private_uv: Path) -> str:
    """A PATH with Python, bash and dirname only: what a new terminal has before uv."""
    folder = tmp_path_factory.mktemp("bare-path")
    for tool in ("bash", "dirname"):
        found = shutil.which(tool)
        assert found is not None
        (folder / tool).symlink_to(found)
    (folder / "python3").symlink_to(sys.executable)
    assert shutil.which("uv", path=str(folder)) is None
    return str(folder)


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory, bare_path: str) -> Iterator[RunningSystem]:
    """`./strangler up` on free ports, started with no uv on PATH."""
    running = start_system(
        tmp_path_factory.mktemp("launched") / "state", command=(str(LAUNCHER),), path=bare_path
    )
    try:
        yield running
    finally:
        try:
            stop_system(running)
        finally:
            force_stop(running)


def test_the_docs_show_strangler_through_the_launcher_only() -> None:
    uv_run = [str(doc.relative_to(ROOT)) for doc in DOCS if "uv run strangler" in doc.read_text()]

    assert uv_run == []
    assert "status" in documented_commands()


def test_without_uv_the_launcher_tells_how_to_install_it(tmp_path: Path, bare_path: str) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(LAUNCHER, checkout / "strangler")

    result = _run([str(checkout / "strangler"), "status"], {"PATH": bare_path})

    assert result.returncode == 127
    assert "run `make install`" in result.stderr


def test_every_read_only_command_in_the_docs_works_as_written(launched: RunningSystem) -> None:
    commands = [
        line
        for line in documented_commands()
        if line.startswith(READ_ONLY) and "$" not in line and "<" not in line
    ]
    assert {"--help", "status", "flags list"} <= set(commands)

    failed = {}
    for line in commands:
        result = launched.strangler(*shlex.split(line), timeout=120)
        if result.returncode != 0:
            failed[line] = result.stdout[-2000:] + result.stderr[-2000:]

    assert failed == {}
    assert launched.strangler("status").returncode == 0


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env={**{k: v for k, v in os.environ.items() if k == "HOME"}, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
