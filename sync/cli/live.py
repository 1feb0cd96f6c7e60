"""What a run shows while it works: one transient progress line on stderr, and one line per wait.

The progress line is drawn only on a terminal and only between `start()` and `stop()`; a command
stops it before printing anything else, so no line is ever glued to the bar. Waiting for another
sync's lock and each retry of a failed request get a line of their own, on a terminal or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

PROGRESS_MIN_ACTIONS = 10
"""Fewer writes than this finish too fast for a bar to be worth drawing."""


def render_wait_line(seconds: float) -> str:
    return f"Waiting for another sync to finish (up to {seconds:.0f} s)…"


def render_retry_line(delay: float, reason: str) -> str:
    """`Notion answered 503 service_unavailable; retrying in 1.5 s…` (or `Notion: timeout; ...`)."""
    seconds = max(delay, 0.0)
    shown = f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}"
    answered = reason[:3].isdigit() or reason.startswith("HTTP ")
    what = f"Notion answered {reason}" if answered else f"Notion: {reason}"
    return f"{what}; retrying in {shown} s…"


class RunDisplay:
    """The live view of one or more runs; `None`-safe callbacks for the engine."""

    def __init__(self, console: Console, description: str, *, bar: bool, quiet: bool = False):
        self.console = console
        self.description = description
        self.bar = bar and not quiet
        self.quiet = quiet
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    # -- lifetime ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Draw the progress line (no-op off a terminal, when quiet, or already drawn)."""
        if not self.bar or self._progress is not None:
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=None, count="")

    def stop(self) -> None:
        """Clear the progress line; everything printed after this starts on a clean line."""
        if self._progress is not None:
            self._progress.stop()
        self._progress = None
        self._task = None

    # -- engine callbacks ----------------------------------------------------------------------
    def advance(self, done: int, total: int, verb: str) -> None:
        if total < PROGRESS_MIN_ACTIONS:
            return
        self.start()
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task,
                description=self.description,
                completed=done,
                total=total,
                count=f"{done}/{total}",
            )

    def waiting(self, seconds: float) -> None:
        self._line(render_wait_line(seconds))
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description="Waiting for another sync")

    def retrying(self, delay: float, reason: str) -> None:
        self._line(render_retry_line(delay, reason))

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        # Printed through the live console, the line lands above the bar, never glued to it.
        target = self._progress.console if self._progress is not None else self.console
        target.print(f"[dim]{escape(text)}[/]", highlight=False)

    def hooks(self) -> dict[str, Any]:
        """The keyword arguments that wire this display into `run_sync`."""
        return {"progress": self.advance, "on_wait": self.waiting, "on_retry": self.retrying}


@contextmanager
def run_display(
    console: Console, description: str, *, enabled: bool, quiet: bool = False
) -> Iterator[RunDisplay]:
    """A display that is always stopped on the way out, by success, error or Ctrl-C."""
    display = RunDisplay(console, description, bar=enabled and console.is_terminal, quiet=quiet)
    try:
        yield display
    finally:
        display.stop()
