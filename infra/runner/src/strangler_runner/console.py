"""Everything the runner shows: prefixed child output, its own notes, tables and errors."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

__all__ = ["ComponentStatus", "RunnerConsole"]

RUNNER_SOURCE = "strangler"
_PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int
    urls: Mapping[str, str]
    up: bool
    """Alive and answering its health probe."""
    state: str = "up"
    """What the runner is doing with it: up, starting, restarting, stopping, stopped."""
    restarts: int = 0
    last_exit: str | None = None


class RunnerConsole:
    def __init__(self, out: Console | None = None, err: Console | None = None) -> None:
        self._out = out or Console(highlight=False, soft_wrap=True)
        self._err = err or Console(stderr=True, highlight=False, soft_wrap=True)
        self._styles: dict[str, str] = {RUNNER_SOURCE: "bold"}
        self._prefix_width = len(RUNNER_SOURCE)

    def introduce(self, sources: Iterable[str]) -> None:
        """Give each output source its colour and align every prefix to the longest name."""
        for source in sources:
            self._styles.setdefault(source, _PALETTE[(len(self._styles) - 1) % len(_PALETTE)])
            self._prefix_width = max(self._prefix_width, len(source))

    def line(self, source: str, text: str) -> None:
        prefix = Text(f"{source:<{self._prefix_width}} | ", style=self._styles.get(source, ""))
        self._out.print(Text.assemble(prefix, Text.from_ansi(text)))

    def message(self, text: str) -> None:
        self._out.print(Text(text))

    def note(self, text: str) -> None:
        self.line(RUNNER_SOURCE, text)

    def aside(self, text: str) -> None:
        """A remark on stderr, so that what goes to stdout can be piped on untouched."""
        self._err.print(Text(text, style="dim"))

    def error(self, text: str) -> None:
        self._err.print(Text.assemble(("error: ", "bold red"), text))

    def failure(self, source: str, reason: str, last_lines: Sequence[str]) -> None:
        self.error(f"{source} {reason}")
        if last_lines:
            self._err.print(Text(f"last lines from {source}:", style="bold"))
            for text in last_lines:
                self._err.print(Text.assemble(("  │ ", "dim"), Text.from_ansi(text)))

    def table(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[str]],
        *,
        right_aligned: Iterable[str] = (),
        unbroken: Iterable[str] = (),
    ) -> None:
        """A plain table: one row per item, cells printed as given (no markup).

        Columns named in `unbroken` are never wrapped or cut; the others give way.
        """
        aligned_right, kept_whole = set(right_aligned), set(unbroken)
        table = Table()
        for header in headers:
            table.add_column(
                header,
                justify="right" if header in aligned_right else "left",
                no_wrap=header in kept_whole,
            )
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        self._out.print(table)

    def progress(self) -> Progress:
        """Progress bars on stdout, one line per task: `name ━━━━  120/200  0:00:03`."""
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._out,
        )

    def components(self, statuses: Iterable[ComponentStatus], *, with_state: bool) -> None:
        table = Table(title=None if with_state else "Strangler Fig is up")
        table.add_column("component", style="bold", no_wrap=True)
        if with_state:
            table.add_column("state", no_wrap=True)
        table.add_column("pid", justify="right", no_wrap=True)
        if with_state:
            table.add_column("restarts", justify="right", no_wrap=True)
            table.add_column("last exit", overflow="fold")
        table.add_column("urls", overflow="fold")
        for status in statuses:
            cells = [Text(status.name, style=self._styles.get(status.name, ""))]
            if with_state:
                cells.append(_shown_state(status))
            cells.append(Text(str(status.pid)))
            if with_state:
                cells += [Text(str(status.restarts)), Text(status.last_exit or "")]
            urls = "\n".join(f"{label}: {url}" for label, url in status.urls.items())
            table.add_row(*cells, Text(urls))
        self._out.print(table)


def _shown_state(status: ComponentStatus) -> Text:
    if status.up and status.state == "up":
        return Text("up", "green")
    if status.state in ("starting", "restarting", "stopping", "stopped"):
        return Text(status.state, "yellow")
    return Text("down", "red")
